import type { Command } from 'commander';
import { BadInputError, TasklockError, type EnqueuedTask, type EnqueueItem, type EnqueueOptions } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { parseTaskLines, readInput, stripBom } from '../task-lines.js';
import { logLine, printJson, printLine } from '../output.js';
import { duration, integer, isoTime, positiveInteger } from '../options.js';
import { reportResults, waitForEnds } from '../task-ends.js';

interface EnqueueFlags {
  file?: string;
  queue?: string;
  priority?: number;
  delay?: number;
  runAt?: number;
  maxAttempts?: number;
  uniqueKey?: string;
  timeout?: number;
  wait?: boolean;
  waitTimeout?: number;
}

export function registerEnqueue(program: Command): void {
  program
    .command('enqueue')
    .description(
      'add a task (or, with --file, many in one transaction); prints their ids, and says on stderr which already existed (--unique-key)',
    )
    .argument('[type]', 'task type')
    .argument('[payload]', 'payload as JSON (default null); "-" reads it from stdin')
    .option('--file <path>', 'one JSON task per line ({"type","payload",...options}); "-" reads stdin')
    .option('--queue <name>', 'queue name (default "default")')
    .option('--priority <int>', 'higher runs first (default 0)', integer())
    .option('--delay <duration>', 'not before this long from now (250ms, 1.5s, 1m30s, 2h, 7d; a bare number is ms)', duration)
    .option('--run-at <time>', 'not before this ISO time', isoTime)
    .option('--max-attempts <n>', 'attempts in all, including the first (default 3)', positiveInteger)
    .option('--unique-key <key>', 'idempotency key: while a pending/running task has it, that task is the answer (created: false)')
    .option('--timeout <duration>', 'a worker aborts an attempt running longer than this (30s, 5m…)', duration)
    .option('--wait', "wait until the tasks have ended and print each one's result as a JSON line instead of its id (failures on stderr); exit 0 all succeeded, 1 any failed or cancelled, 124 timed out")
    .option('--wait-timeout <duration>', 'with --wait: give up waiting after this long (exit 124)', duration)
    .action(async (type: string | undefined, payloadText: string | undefined, flags: EnqueueFlags, command: Command) => {
      const globals = globalOptions(command);
      const defaults = optionsOf(flags);
      let items: EnqueueItem[];
      let lineOf: (index: number) => number | undefined = () => undefined;
      if (flags.file !== undefined) {
        if (type !== undefined) throw new BadInputError('give a type and payload, or --file, not both');
        const parsed = parseTaskLines(await readInput(flags.file), flags.file === '-' ? 'stdin' : flags.file);
        items = parsed.map(({ item }) => ({ ...defaults, ...item }));
        lineOf = (index) => parsed[index]?.line;
      } else {
        if (type === undefined) throw new BadInputError('missing task type (or use --file)');
        const payload = payloadText === '-' ? parsePayload(await readInput('-'), 'payload on stdin') : parsePayload(payloadText, 'payload');
        items = [{ ...defaults, type, payload }];
      }
      if (flags.waitTimeout !== undefined && !flags.wait) throw new BadInputError('--wait-timeout needs --wait');
      const tasks = await withQueue(
        globals,
        async (queue) => {
          let enqueued: EnqueuedTask[];
          try {
            enqueued = await queue.enqueueMany(items);
          } catch (error) {
            throw withLineNumber(error, lineOf, flags.file);
          }
          if (flags.wait) await waitForEnds(queue, enqueued.map((task) => task.id), flags.waitTimeout, (ended) => reportResults(ended, globals.json));
          return enqueued;
        },
        { create: true },
      );
      if (flags.wait) return;
      if (globals.json) printJson({ ids: tasks.map((task) => task.id), created: tasks.map((task) => task.created) });
      else printIds(tasks, flags.file !== undefined);
    });
}

/**
 * Text: stdout keeps exactly one id per task, in input order, whether created or found (so
 * `id=$(tasklock enqueue …)` and `| xargs` go on working); what was found already goes to
 * stderr for the person reading. Finding one is the point of a unique key, not an error: exit 0.
 */
function printIds(tasks: readonly EnqueuedTask[], fromFile: boolean): void {
  for (const task of tasks) printLine(String(task.id));
  const existing = tasks.filter((task) => !task.created);
  if (!fromFile) {
    for (const task of existing) logLine(`task ${task.id} already exists (unique key ${task.uniqueKey})`);
    return;
  }
  const created = tasks.length - existing.length;
  logLine(`enqueued ${created} task(s)${existing.length > 0 ? `, ${existing.length} already existed (unique key)` : ''}`);
}

function optionsOf(flags: EnqueueFlags): EnqueueOptions {
  const options: EnqueueOptions = {};
  if (flags.queue !== undefined) options.queue = flags.queue;
  if (flags.priority !== undefined) options.priority = flags.priority;
  if (flags.delay !== undefined) options.delayMs = flags.delay;
  if (flags.runAt !== undefined) options.runAt = flags.runAt;
  if (flags.maxAttempts !== undefined) options.maxAttempts = flags.maxAttempts;
  if (flags.uniqueKey !== undefined) options.uniqueKey = flags.uniqueKey;
  if (flags.timeout !== undefined) options.timeoutMs = flags.timeout;
  return options;
}

/** `what` names the source in the error: "payload" or "payload on stdin". */
function parsePayload(text: string | undefined, what: string): unknown {
  if (text === undefined) return null;
  if (text.trim() === '') throw new BadInputError(`${what} is empty (give JSON, e.g. null or {})`);
  try {
    return JSON.parse(stripBom(text)) as unknown;
  } catch (error) {
    throw new BadInputError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The library names a bad item of a batch "task #k"; a file's author needs its line number
 * (blank lines are skipped, so k and the line differ).
 */
function withLineNumber(error: unknown, lineOf: (index: number) => number | undefined, file: string | undefined): unknown {
  if (file === undefined || !(error instanceof TasklockError) || error.code !== 'bad-input') return error;
  const match = /^task #(\d+): (.*)$/s.exec(error.message);
  const line = match ? lineOf(Number(match[1]) - 1) : lineOf(0);
  if (line === undefined) return error;
  const source = file === '-' ? 'stdin' : file;
  return new BadInputError(`${source} line ${line}: ${match ? match[2] : error.message}`, { cause: error });
}
