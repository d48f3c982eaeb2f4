/**
 * The rows that cross the storage seam, whatever the engine: snake_case columns as the schema
 * names them, times as epoch milliseconds, JSON columns as the text JSON.stringify wrote. A store
 * maps its engine's types to these (PostgreSQL's bigint ids and jsonb, say); the queue maps them
 * to the API's camelCase objects (task.ts) and parses the JSON.
 */
import type { StatusView } from '../status-view.js';
import type { TaskStatus, TransitionName } from '../task-state.js';

/** One task, as stored. */
export interface TaskRow {
  id: number;
  type: string;
  queue: string;
  status: TaskStatus;
  priority: number;
  payload: string;
  result: string | null;
  last_error: string | null;
  progress: string | null;
  attempts: number;
  max_attempts: number;
  released: number;
  backoff: string;
  unique_key: string | null;
  timeout_ms: number | null;
  run_at: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  locked_by: string | null;
  /**
   * The producer's trace context at enqueue (JSON: W3C traceparent, tracestate), null when none.
   * Optional: not carried by export/import (a link to a past producer's trace).
   */
  trace_context?: string | null;
}

/** A validated task to insert (validate.ts makes it; JSON already serialised). */
export interface NewTask {
  type: string;
  queue: string;
  priority: number;
  payload: string;
  maxAttempts: number;
  backoff: string;
  uniqueKey: string | null;
  timeoutMs: number | null;
  runAt: number;
  /**
   * How runAt was made: now + delayMs (0 for "now"), or null for a time the caller gave. A store
   * with a clock of its own (PostgreSQL) measures the delay from its now instead, so that a
   * client's clock never decides when a task is due.
   */
  delayMs: number | null;
  /** The producer's trace context (JSON), stored as trace_context; null when no span was active or tracing is absent. */
  traceContext: string | null;
}

/** The row an enqueue just inserted for `task`, without reading it back: every column but the id and times is as given. */
export function insertedRow(task: NewTask, id: number, runAt: number, createdAt: number): TaskRow {
  return {
    id,
    type: task.type,
    queue: task.queue,
    status: 'pending',
    priority: task.priority,
    payload: task.payload,
    result: null,
    last_error: null,
    progress: null,
    attempts: 0,
    max_attempts: task.maxAttempts,
    released: 0,
    backoff: task.backoff,
    unique_key: task.uniqueKey,
    timeout_ms: task.timeoutMs,
    run_at: runAt,
    created_at: createdAt,
    updated_at: createdAt,
    finished_at: null,
    lease_token: null,
    lease_expires_at: null,
    locked_by: null,
    trace_context: task.traceContext,
  };
}

/** How an attempt ended; `running` while it runs. `reclaimed`: taken back by the sweep (see reclaim.ts). */
export const RUN_OUTCOMES = ['running', 'succeeded', 'failed', 'retry', 'reclaimed', 'cancelled', 'released'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** One attempt: opened by claim, closed by the move that ends it. */
export interface TaskRunRow {
  task_id: number;
  attempt: number;
  worker_id: string;
  lease_token: string;
  started_at: number;
  finished_at: number | null;
  outcome: RunOutcome;
  error: string | null;
  /** Who ended the run when that was not its own worker (e.g. \`api\`); null otherwise. */
  finished_by: string | null;
  handler_pgid: number | null;
  handler_start: string | null;
  handler_host: string | null;
}

/** The process group an attempt's handler runs in, and where. */
export interface HandlerProcess {
  pgid: number;
  start: string;
  host: string;
}

/** One transition in the append-only event log. */
export interface TaskEventRow {
  /** The stored event's id (commit order); null for an event the store derives (a claim, from its run). */
  id: number | null;
  task_id: number;
  at: number;
  transition: TransitionName;
  from_status: TaskStatus | null;
  to_status: TaskStatus;
  attempt: number;
  worker_id: string | null;
  detail: string | null;
}

/** An event of the log as the stream delivers it: the row, and its place in the log (event-cursor.ts). */
export interface LoggedEventRow extends TaskEventRow {
  cursor: string;
}

/** One worker process; it ends stopped (graceful) or crashed (found dead by `crashed_by`). */
export interface WorkerRow {
  id: string;
  pid: number;
  host: string;
  process_start: string;
  queue: string;
  types: string | null;
  started_at: number;
  last_seen: number;
  stopped_at: number | null;
  crashed_at: number | null;
  crashed_by: string | null;
  /** How long its heartbeat may be silent before a sweep on another host counts it dead; null: rows of schema < 7, judged by pid and leases only. */
  dead_after_ms: number | null;
}

export type NewWorker = Omit<WorkerRow, 'stopped_at' | 'last_seen' | 'crashed_at' | 'crashed_by'>;

/** Tasks by queue, type and status, pending split into due `pending` and future `scheduled`. */
/** ctx.count's running sum of one name for one task. */
export interface CounterRow {
  task_id: number;
  name: string;
  value: number;
}

/** A counter summed over the tasks of one type (stats). */
export interface CounterTotalRow {
  type: string;
  name: string;
  value: number;
}

export interface CountRow {
  queue: string;
  type: string;
  status: StatusView;
  count: number;
}

/** How many times a transition happened to tasks of a type (the stored tasks' event log, counted). */
export interface TransitionCountRow {
  transition: TransitionName;
  type: string;
  count: number;
}

/** A draining worker's question: what of its queue/types is left, and when it comes due. */
export interface Backlog {
  /** Pending with run_at ≤ now. */
  due: number;
  /** Running, by any worker (it may fail and come back). */
  running: number;
  /** Pending with run_at > now. */
  scheduled: number;
  /** Earliest run_at among the scheduled ones; null when none. */
  nextRunAt: number | null;
  /** How far nextRunAt is from the store's now (the server's clock on a server store): what a
   * client compares with its own timers, which its own clock being off cannot skew. */
  nextDueInMs: number | null;
}

/** A running task that the reclaim sweep may take back, with its attempt's handler group (if recorded). */
export interface HeldTask {
  id: number;
  attempts: number;
  locked_by: string;
  lease_token: string;
  handler_pgid: number | null;
  handler_start: string | null;
  handler_host: string | null;
  /** Why it is a candidate: its worker is gone (dead-owner) or its lease ran out (lease-expired). */
  why: 'dead-owner' | 'lease-expired';
}

/** Which tasks a list, a bulk move or a count selects; null = any. */
export interface FilterInput {
  statuses: readonly StatusView[] | null;
  types: readonly string[] | null;
  queues: readonly string[] | null;
  /** Only tasks last updated at or before this time (epoch ms). */
  updatedBefore: number | null;
}

/**
 * One task whole, as `export` reads it and `import` writes it: its row, its runs (by attempt) and
 * its stored events (reclaim, cancel, operator retry; in commit order). The derived events
 * (enqueue, claims, run ends) are not carried: the target's event log derives them from the same
 * rows. A stored event's `id` is its store's commit order, so an import gives it a new one.
 */
export interface TaskRecord {
  task: TaskRow;
  runs: TaskRunRow[];
  events: TaskEventRow[];
}
