/**
 * A worker's log on stderr, in one of two formats (`tasklock worker --log-format`):
 *
 *   text (default)  `2030-01-01T00:00:00.000Z warn task 7 (mail) attempt 1 failed, will retry: …`
 *                   the look the worker always had; fields follow as JSON with --verbose only.
 *   json            one JSON object per line: time (ISO 8601), level ("debug" | "info" | "warn" |
 *                   "error"), worker (its id), taskId when the line is about a task, msg, and the
 *                   line's fields. A handler's console output becomes records of its own
 *                   ({"source":"handler","stream":"stdout"|"stderr","taskId"…}), so every stderr
 *                   line parses as JSON.
 *
 * json is written by pino: the NDJSON shape log shippers and pino-pretty already read, and
 * serialisation of whatever fields a line carries (cycles, BigInt) that cannot throw. Its
 * destination is synchronous (sonic-boom with sync: true; no transport, so no worker thread):
 * a line is on stderr when the call returns, so neither a graceful exit nor process.exit()
 * loses one. A closed stderr (EPIPE) is an 'error' event on the destination: lines are dropped
 * from then on and the worker goes on working (see output.ts). pino is imported only for json.
 */
import type { WorkerLog, WorkerLogLevel } from '@tasklock/core';
import type { Logger } from 'pino';
import { writeLog } from './output.js';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface WorkerLogger {
  readonly format: LogFormat;
  /** For WorkerOptions.log, and the CLI's own lines (signals). */
  readonly log: WorkerLog;
  /** What handler code wrote to stdout or stderr; `taskId` when written during a task's attempt. */
  handlerOutput(stream: 'stdout' | 'stderr', text: string, taskId: number | undefined): void;
}

export async function createWorkerLogger(format: LogFormat, workerId: string, verbose: boolean): Promise<WorkerLogger> {
  return format === 'json' ? jsonLogger(workerId, verbose) : textLogger(verbose);
}

function textLogger(verbose: boolean): WorkerLogger {
  return {
    format: 'text',
    log: (level, message, fields) => {
      if (level === 'debug' && !verbose) return;
      const extra = verbose && fields !== undefined ? ` ${JSON.stringify(fields, jsonSafe)}` : '';
      writeLog(`${new Date().toISOString()} ${level} ${message}${extra}\n`);
    },
    // As the handler wrote it: the text format adds nothing to a handler's own lines.
    handlerOutput: (_stream, text) => writeLog(text),
  };
}

async function jsonLogger(workerId: string, verbose: boolean): Promise<WorkerLogger> {
  const { default: pino } = await import('pino');
  const destination = pino.destination({ dest: 2, sync: true });
  // EPIPE and friends: stderr is gone; sonic-boom stops writing and so do we, quietly.
  destination.on('error', () => undefined);
  const logger: Logger = pino(
    {
      level: verbose ? 'debug' : 'info',
      base: { worker: workerId },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: the same words as the text format.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log: WorkerLog = (level: WorkerLogLevel, message: string, fields?: Record<string, unknown>) => {
    logger[level](fields ?? {}, message);
  };
  return {
    format: 'json',
    log,
    handlerOutput: (stream, text, taskId) => {
      const lines = text.split('\n');
      // "a\nb\n" is two lines, not three: a write that ends its line leaves no empty record.
      if (lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) {
        logger[stream === 'stdout' ? 'info' : 'warn']({ source: 'handler', stream, ...(taskId === undefined ? {} : { taskId }) }, line);
      }
    },
  };
}

/** JSON.stringify replacer for the text format's fields: a BigInt must not throw in a log call. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
