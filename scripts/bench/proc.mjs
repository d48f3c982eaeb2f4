// The parent side: child processes that speak the protocol of children/protocol.mjs, temp dirs,
// and /proc readers. Every child and temp dir is registered so that any exit (normal, error,
// Ctrl-C) kills the children and removes the dirs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILDREN_DIR = fileURLToPath(new URL('./children/', import.meta.url));
const live = new Set();
const tempDirs = new Set();
const stoppers = new Set();

export class Child {
  constructor(script, config, { name = script, env } = {}) {
    this.name = name;
    this.messages = [];
    this.waiters = [];
    this.stderr = '';
    this.exitInfo = null;
    this.proc = spawn(process.execPath, [join(CHILDREN_DIR, script), JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    this.pid = this.proc.pid;
    live.add(this);
    let buffer = '';
    this.proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.receive(line);
      }
    });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    this.proc.stdin.on('error', () => undefined); // a child that died before reading its stdin
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: performance.now() };
        live.delete(this);
        this.flushWaiters();
        resolve(this.exitInfo);
      });
    });
  }

  receive(line) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // stray output from a library; the protocol is JSON lines only
    }
    message.receivedAt = performance.now();
    if (message.event === 'error') this.crash = message.message;
    this.messages.push(message);
    this.flushWaiters();
  }

  flushWaiters() {
    for (const waiter of [...this.waiters]) {
      const index = this.messages.findIndex((m) => m.event === waiter.event);
      if (index >= 0) {
        const [message] = this.messages.splice(index, 1);
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.resolve(message);
      } else if (this.exitInfo || this.crash) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`${this.name} ${this.describeEnd()} before sending "${waiter.event}"`));
      }
    }
  }

  describeEnd() {
    const how = this.crash ? `crashed: ${this.crash}` : `exited (${this.exitInfo?.signal ?? `code ${this.exitInfo?.code}`})`;
    const stderr = this.stderr.trim() ? `\n--- stderr ---\n${this.stderr.trim()}` : '';
    return `${how}${stderr}`;
  }

  /** The next message of this event (consumed), or rejects on exit/crash/timeout. */
  next(event, timeoutMs = 120_000) {
    return new Promise((resolve, reject) => {
      const waiter = { event, resolve, reject, timer: null };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.flushWaiters();
    });
  }

  send(command) {
    if (!this.exitInfo) this.proc.stdin.write(`${command}\n`);
  }

  kill(signal = 'SIGKILL') {
    if (!this.exitInfo) this.proc.kill(signal);
  }

  /** Waits for a clean exit; throws with the child's stderr on a non-zero one. */
  async done(timeoutMs = 300_000) {
    let timer;
    const info = await Promise.race([
      this.exited,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name}: still running after ${timeoutMs} ms`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (info.code !== 0) throw new Error(`${this.name} ${this.describeEnd()}`);
    return info;
  }
}

/** Runs a child to completion and returns its `result` message. */
export async function runChild(script, config, options = {}) {
  const child = new Child(script, config, options);
  const result = await child.next('result', options.timeoutMs ?? 600_000);
  await child.done();
  return result;
}

export function killAll() {
  for (const child of live) child.kill('SIGKILL');
}

export function makeTempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `tasklock-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Runs stop() at cleanup too (a server the bench started), unless the returned release() came first. */
export function stopAtCleanup(stop) {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

export function cleanup() {
  killAll();
  for (const stop of stoppers) {
    try {
      stop();
    } catch (error) {
      // cleanup runs on the way out: one failed stop is reported and does not keep the rest from running
      process.stderr.write(`bench cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  stoppers.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux

/** utime + stime of a process, in seconds of CPU. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing paren are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S; // fields 14 and 15 of stat(5)
}

/** VmRSS of a process, in bytes. */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
