import { BadInputError } from './errors.js';
import type { TaskStatus } from './task-state.js';
import type { TaskRow } from './storage/rows.js';

/** How long a failed attempt waits before the next: `delay = min(maxMs, baseMs * factor^(attempt-1))`. */
export interface Backoff {
  baseMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, factor: 2, maxMs: 60 * 60 * 1000 };

export function backoffDelayMs(backoff: Backoff, attempt: number): number {
  return Math.min(backoff.maxMs, Math.round(backoff.baseMs * backoff.factor ** Math.max(0, attempt - 1)));
}

/** A task as the API hands it out (camelCase, parsed JSON, Date-free epoch milliseconds). */
export interface Task {
  id: number;
  type: string;
  queue: string;
  status: TaskStatus;
  priority: number;
  payload: unknown;
  result: unknown;
  lastError: string | null;
  progress: unknown;
  /** ctx.count's sums for this task, by name ({} when none; filled in by reads, not by a claim). */
  counters: Record<string, number>;
  /** Runs so far, handed-back ones included (= the number of task_runs rows). */
  attempts: number;
  maxAttempts: number;
  /** Attempts handed back by a graceful shutdown: they do not count against maxAttempts. */
  releasedAttempts: number;
  backoff: Backoff;
  uniqueKey: string | null;
  timeoutMs: number | null;
  runAt: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  leaseExpiresAt: number | null;
  lockedBy: string | null;
  /** The producer's trace context at enqueue (W3C traceparent, tracestate), null when none was active or tracing is absent. */
  traceContext: { traceparent: string; tracestate?: string } | null;
}

/** A task this worker holds: `leaseToken` fences every later write about it. */
export interface ClaimedTask extends Task {
  leaseToken: string;
  leaseExpiresAt: number;
  lockedBy: string;
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    status: row.status,
    priority: row.priority,
    payload: JSON.parse(row.payload) as unknown,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    lastError: row.last_error,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as unknown),
    counters: {},
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    releasedAttempts: row.released,
    backoff: JSON.parse(row.backoff) as Backoff,
    uniqueKey: row.unique_key,
    timeoutMs: row.timeout_ms,
    runAt: row.run_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    leaseExpiresAt: row.lease_expires_at,
    lockedBy: row.locked_by,
    traceContext: row.trace_context == null ? null : (JSON.parse(row.trace_context) as Task['traceContext']),
  };
}

export function toClaimedTask(row: TaskRow): ClaimedTask {
  if (row.lease_token === null || row.lease_expires_at === null || row.locked_by === null) {
    throw new Error(`task ${row.id} has no lease`);
  }
  // toTask's object is fresh: extended in place rather than copied (a claim maps a whole batch).
  return Object.assign(toTask(row), { leaseToken: row.lease_token, leaseExpiresAt: row.lease_expires_at, lockedBy: row.locked_by });
}

/**
 * A value already serialised and checked by toJsonText: the worker serialises a handler's result
 * once (to fail an attempt whose result cannot be stored), and the queue stores that text as is.
 */
export class JsonText {
  private constructor(readonly text: string) {}

  static of(value: unknown, what: string, maxBytes: number, taskId?: number): JsonText {
    return new JsonText(toJsonText(value, what, maxBytes, taskId));
  }
}

/** Serialises a value to stored JSON text, refusing what JSON cannot carry faithfully. */
export function toJsonText(value: unknown, what: string, maxBytes: number, taskId?: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new BadInputError(`${what} is not JSON-serialisable: ${(error as Error).message}`, { taskId });
  }
  if (text === undefined) throw new BadInputError(`${what} is not JSON-serialisable (${typeof value})`, { taskId });
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new BadInputError(`${what} is ${bytes} bytes, over the ${maxBytes}-byte limit`, { taskId });
  return text;
}
