/**
 * Everything commands print. Results go to stdout: one JSON document with --json, otherwise
 * plain lines and aligned tables. Logs and errors go to stderr, so `--json | jq` always works.
 *
 * A closed stdout (`tasklock list | head -1`: the reader is gone, writes fail with EPIPE) ends
 * the command quietly: the next result write throws OutputClosedError, which unwinds the
 * command through its `finally` blocks (the queue is closed, a worker has already stopped) and
 * which main() turns into exit 0 without a word. Any other failed write (ENOSPC on
 * `> /dev/full`, EIO) is a real failure: the same unwinding, then one error line and exit 1.
 * Log writes to a closed stderr are dropped and
 * never throw: a worker keeps working when its log reader goes away (as daemons do, and as
 * systemd's IgnoreSIGPIPE= intends); it stops when it is told to, not because of a log pipe.
 */
import type { Task, TaskEventRow, TaskRunRow, WorkerRow } from '@tasklock/core';

/**
 * The real stdout, captured before anything can redirect `process.stdout.write` (a worker sends
 * its handlers' console output to stderr): results are written through this one only.
 */
const writeStdout: (text: string) => boolean = process.stdout.write.bind(process.stdout);
const writeStderr: (text: string) => boolean = process.stderr.write.bind(process.stderr);

/** The reader went away: nobody is left to tell anything, and nothing failed. */
function readerGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/**
 * Thrown by result writes once stdout cannot take more. `readerGone` (EPIPE): main() exits 0
 * and prints nothing; otherwise (ENOSPC, EIO…) it is an error like any other, exit 1.
 */
export class OutputClosedError extends Error {
  readonly readerGone: boolean;
  constructor(cause: unknown) {
    super(`cannot write to stdout: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'OutputClosedError';
    this.readerGone = readerGone(cause);
  }
}

/**
 * A write to stdout that failed after its call returned (a large write finishing later) and
 * was not the reader going away: main() checks this before it reports success.
 */
export function stdoutWriteFailure(): OutputClosedError | null {
  const error = process.stdout.errored;
  return error == null || readerGone(error) ? null : new OutputClosedError(error);
}

/**
 * Keeps a failed write to stdout or stderr from becoming an uncaught 'error' event (Node prints
 * a stack trace and exits 1): the stream just counts as closed from then on. Call once, first.
 */
export function guardOutputStreams(): void {
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

/**
 * Closed: a write failed (EPIPE, or any other error: nothing more can be written). Node sets
 * `errored` synchronously when the write itself fails, so the very write that hit EPIPE is
 * noticed before the next line is formatted.
 */
function closed(stream: NodeJS.WriteStream): boolean {
  return stream.destroyed || stream.errored != null || !stream.writable;
}

export function stdoutClosed(): boolean {
  return closed(process.stdout);
}

function writeResult(text: string): void {
  if (closed(process.stdout)) throw new OutputClosedError(process.stdout.errored ?? new Error('stdout is closed'));
  writeStdout(text);
  if (closed(process.stdout)) throw new OutputClosedError(process.stdout.errored ?? new Error('stdout is closed'));
}

export function printJson(value: unknown): void {
  writeResult(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  writeResult(`${line}\n`);
}

/**
 * Result text for a long stream (`export`): resolves once stdout has room again, so that a slow
 * reader holds the writer back instead of the text piling up in memory.
 */
export async function printStreamed(text: string): Promise<void> {
  if (closed(process.stdout)) throw new OutputClosedError(process.stdout.errored ?? new Error('stdout is closed'));
  // A write that failed has already marked the stream errored: waiting for 'drain' then would
  // wait for an event that never comes (and Node would exit 0 with nothing left to run).
  if (!writeStdout(text) && !closed(process.stdout)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        for (const event of ['drain', 'error', 'close']) process.stdout.off(event, done);
        resolve();
      };
      for (const event of ['drain', 'error', 'close']) process.stdout.once(event, done);
    });
  }
  if (closed(process.stdout)) throw new OutputClosedError(process.stdout.errored ?? new Error('stdout is closed'));
}

/** Result text as it is (no newline added): a terminal redraw's escape sequences, say. */
export function printText(text: string): void {
  writeResult(text);
}

/** A line on stderr; dropped once stderr is closed (never throws: see the top of this file). */
export function logLine(line: string): void {
  writeLog(`${line}\n`);
}

/** Raw text on the real stderr (a redirected handler's output, a log line); dropped once closed. */
export function writeLog(text: string): void {
  if (!closed(process.stderr)) writeStderr(text);
}

/**
 * Sends everything written through `process.stdout.write` — a handler's `console.log`,
 * `console.info`, `process.stdout.write` — to `sink` instead, until the returned function is
 * called; results still reach the real stdout (printLine/printJson use the captured writer).
 * `process.stderr.write` is redirected too when `stderrSink` is given (JSON logs wrap it).
 * A child process started with inherited stdio writes to fd 1 itself: this cannot catch it.
 */
export function redirectConsoleOutput(stdoutSink: (text: string) => void, stderrSink?: (text: string) => void): () => void {
  const original = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = redirected(stdoutSink);
  if (stderrSink !== undefined) process.stderr.write = redirected(stderrSink);
  return () => {
    process.stdout.write = original.stdout;
    process.stderr.write = original.stderr;
  };
}

type WriteFn = NodeJS.WriteStream['write'];

function redirected(sink: (text: string) => void): WriteFn {
  return ((chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean => {
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : 'utf8';
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    // Bytes are text in UTF-8; a string comes with its encoding (console always writes strings).
    sink(typeof chunk === 'string' ? Buffer.from(chunk, encoding).toString('utf8') : Buffer.from(chunk).toString('utf8'));
    if (done) process.nextTick(done, null);
    return true;
  }) as WriteFn;
}

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /**
   * Fit each line into this many columns: the widest columns give way first, down to their
   * header's width, and a cut cell ends in "…". Undefined: no limit (piped output keeps it all).
   */
  width?: number | undefined;
  /** Columns never cut (ids, statuses: a cut one would mislead). */
  fixed?: readonly number[] | undefined;
  /** Colours a data cell, given its text already cut and padded (escapes take no width). */
  paint?: ((text: string, column: number, row: readonly Cell[]) => string) | undefined;
}

const GAP = 2;

/** Columns padded to their widest cell; the last column is never padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const text = [headers, ...rows].map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  if (options.width !== undefined) fitWidths(widths, headers, options.width, options.fixed ?? []);
  return text
    .map((row, index) =>
      row
        .map((cell, column) => {
          const width = widths[column]!;
          const cut = cell.length > width ? `${cell.slice(0, Math.max(0, width - 1))}…` : cell;
          const padded = column === row.length - 1 ? cut : cut.padEnd(width);
          return index > 0 && options.paint ? options.paint(padded, column, rows[index - 1]!) : padded;
        })
        .join(' '.repeat(GAP))
        .trimEnd(),
    )
    .join('\n');
}

/** Shrinks the widest column by one until the line fits or every column is at its floor. */
function fitWidths(widths: number[], headers: readonly string[], limit: number, fixed: readonly number[]): void {
  const floors = widths.map((width, column) => (fixed.includes(column) ? width : Math.min(width, Math.max(3, headers[column]!.length))));
  let total = widths.reduce((sum, width) => sum + width, 0) + GAP * (widths.length - 1);
  while (total > limit) {
    let widest = -1;
    for (let column = 0; column < widths.length; column += 1) {
      if (widths[column]! > floors[column]! && (widest < 0 || widths[column]! >= widths[widest]!)) widest = column;
    }
    if (widest < 0) return;
    widths[widest]! -= 1;
    total -= 1;
  }
}

export function printTable(headers: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): void {
  printLine(formatTable(headers, rows, options));
}

/** The width a table on stdout should fit: the terminal's, or undefined when stdout is not one. */
export function terminalWidth(): number | undefined {
  return process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

/** Colour is for a person at a terminal: never in JSON, in a pipe or a file, or with NO_COLOR set (no-color.org). */
export function useColour(json: boolean): boolean {
  return !json && process.stdout.isTTY === true && !process.env.NO_COLOR;
}

const STATUS_COLOURS: Record<string, string> = {
  pending: '33', // yellow
  scheduled: '34', // blue
  running: '36', // cyan
  succeeded: '32', // green
  failed: '31', // red
  cancelled: '90', // grey
};

/** `text` in its status's colour (text is the status, possibly padded or cut); unchanged for anything else. */
export function paintStatus(text: string, status: string = text.trim()): string {
  const code = STATUS_COLOURS[status];
  return code === undefined ? text : `\x1b[${code}m${text}\x1b[0m`;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * One line, at most `max` characters: for table cells holding errors and payloads. A stored
 * error runs over many lines (message, stack): the cell shows its first, `show` the whole.
 */
export function clip(text: string | null, max = 60): string | null {
  if (text === null) return null;
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const line = (lines[0] ?? '').replace(/\s+/g, ' ').trim();
  if (line.length > max) return `${line.slice(0, max - 1)}…`;
  return lines.length > 1 ? `${line.slice(0, max - 2)} …` : line;
}

/** Counters as one compact cell: `name=value`, by name, space-separated; null when there are none. */
export function countersText(counters: Readonly<Record<string, number>>): string | null {
  const names = Object.keys(counters).sort();
  return names.length === 0 ? null : names.map((name) => `${name}=${counters[name]}`).join(' ');
}

/** A task as --json prints it: the API's Task with times as ISO strings. */
export function taskJson(task: Task) {
  return {
    id: task.id,
    type: task.type,
    queue: task.queue,
    status: task.status,
    priority: task.priority,
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    releasedAttempts: task.releasedAttempts,
    runAt: iso(task.runAt),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    finishedAt: iso(task.finishedAt),
    payload: task.payload,
    result: task.result,
    lastError: task.lastError,
    progress: task.progress,
    counters: task.counters,
    backoff: task.backoff,
    uniqueKey: task.uniqueKey,
    timeoutMs: task.timeoutMs,
    leaseExpiresAt: iso(task.leaseExpiresAt),
    lockedBy: task.lockedBy,
  };
}

export function runJson(run: TaskRunRow) {
  return {
    attempt: run.attempt,
    workerId: run.worker_id,
    startedAt: iso(run.started_at),
    finishedAt: iso(run.finished_at),
    outcome: run.outcome,
    error: run.error,
    handler: run.handler_pgid === null ? null : { pgid: run.handler_pgid, start: run.handler_start, host: run.handler_host },
  };
}

export function eventJson(event: TaskEventRow) {
  return {
    id: event.id,
    at: iso(event.at),
    transition: event.transition,
    from: event.from_status,
    to: event.to_status,
    attempt: event.attempt,
    workerId: event.worker_id,
    detail: event.detail,
  };
}

export function workerJson(worker: WorkerRow & { alive: boolean | null }) {
  return {
    id: worker.id,
    pid: worker.pid,
    host: worker.host,
    queue: worker.queue,
    types: worker.types === null ? null : (JSON.parse(worker.types) as string[]),
    startedAt: iso(worker.started_at),
    lastSeen: iso(worker.last_seen),
    stoppedAt: iso(worker.stopped_at),
    crashedAt: iso(worker.crashed_at),
    crashedBy: worker.crashed_by,
    alive: worker.alive,
    state: workerState(worker),
  };
}

/**
 * live | stopped (shut down gracefully) | crashed (found dead by a reclaim sweep) | dead (gone,
 * not yet found by a sweep) | unknown (another host: only its heartbeat tells).
 */
export function workerState(worker: Pick<WorkerRow, 'stopped_at' | 'crashed_at'> & { alive: boolean | null }): string {
  if (worker.stopped_at !== null) return 'stopped';
  if (worker.crashed_at !== null) return 'crashed';
  if (worker.alive === null) return 'unknown';
  return worker.alive ? 'live' : 'dead';
}
