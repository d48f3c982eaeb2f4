// The child side of the bench protocol: one JSON object per stdout line ({ event, ... }), and
// commands from the parent as plain lines on stdin ("go", "stop", ...).
import { createInterface } from 'node:readline';

/** The child's configuration: a JSON object in argv[2]. */
export const config = JSON.parse(process.argv[2] ?? '{}');

export function send(event, fields = {}) {
  // stdout is a pipe: writes are synchronous on Linux, so a process.exit() right after loses nothing.
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

const waiting = new Map();
const early = [];
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const command = line.trim();
  const resolve = waiting.get(command);
  if (resolve) {
    waiting.delete(command);
    resolve();
  } else {
    early.push(command);
  }
  for (const listener of listeners) listener(command);
});
// The parent is gone (or closed our stdin): nothing will ever tell us to stop, so stop now.
rl.on('close', () => {
  if (!exiting) process.exit(3);
});

const listeners = new Set();
let exiting = false;

/** Resolves when the parent sends this command (or already did). */
export function command(name) {
  const index = early.indexOf(name);
  if (index >= 0) {
    early.splice(index, 1);
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.set(name, resolve));
}

/** Calls fn for every command line from now on. */
export function onCommand(fn) {
  listeners.add(fn);
}

export function exit(code = 0) {
  exiting = true;
  process.exit(code);
}

/** Any crash is reported as one `error` line, then a non-zero exit. */
export function fatal(error) {
  send('error', { message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
