/**
 * The export format, `tasklock-export` version 1: NDJSON, one JSON object per line.
 *
 *   line 1     {"format":"tasklock-export","version":1,"source":{"engine","schemaVersion"},"exportedAt","filter","allowRunning"}
 *   each task  {"task":{…the row…},"runs":[…by attempt…],"events":[…stored events, oldest first…]}
 *   last line  {"end":{"tasks","runs","events"}}: the counts, known once the stream is written; a
 *              file without it was cut short and is refused whole.
 *
 * Columns are the store-neutral rows (storage/rows.ts), snake_case, times in epoch ms, JSON
 * columns (payload, result, progress, backoff) as the exact text stored. A run leaves out its
 * task_id, an event its task_id and id (the source store's commit order: the target gives its
 * own). Keys are written in the order of the tables below whatever order a store's columns
 * come in, so the same tasks export to the same bytes from either store. Only the stored
 * events are carried: enqueues, claims and run ends are derived from the rows, in the target too.
 * Workers and finish_counts are not exported: they describe the source store's processes and
 * its last hour of throughput, not the tasks.
 */
import { RUN_OUTCOMES, type TaskEventRow, type TaskRecord, type TaskRow, type TaskRunRow } from '../storage/rows.js';
import { TASK_STATUSES } from '../task-state.js';

export const EXPORT_FORMAT = 'tasklock-export';
export const EXPORT_VERSION = 1;

/** What a field may hold. `json`: text that parses as JSON (the store parses it on every read). */
export type FieldKind = 'id' | 'count' | 'int' | 'int?' | 'text' | 'text?' | 'json' | 'json?' | readonly string[] | { nullable: readonly string[] };

/** The transitions a store keeps as event rows; every other event is derived from the rows. */
export const STORED_TRANSITIONS = ['reclaim', 'cancel', 'retry'] as const;

export const TASK_FIELDS: { readonly [K in keyof TaskRow]: FieldKind } = {
  id: 'id',
  type: 'text',
  queue: 'text',
  status: TASK_STATUSES,
  priority: 'int',
  payload: 'json',
  result: 'json?',
  last_error: 'text?',
  progress: 'json?',
  attempts: 'count',
  max_attempts: 'id',
  released: 'count',
  backoff: 'json',
  unique_key: 'text?',
  timeout_ms: 'int?',
  run_at: 'int',
  created_at: 'int',
  updated_at: 'int',
  finished_at: 'int?',
  lease_token: 'text?',
  lease_expires_at: 'int?',
  locked_by: 'text?',
};

export type ExportedRun = Omit<TaskRunRow, 'task_id'>;

export const RUN_FIELDS: { readonly [K in keyof ExportedRun]: FieldKind } = {
  attempt: 'id',
  worker_id: 'text',
  lease_token: 'text',
  started_at: 'int',
  finished_at: 'int?',
  outcome: RUN_OUTCOMES,
  error: 'text?',
  finished_by: 'text?',
  handler_pgid: 'int?',
  handler_start: 'text?',
  handler_host: 'text?',
};

export type ExportedEvent = Omit<TaskEventRow, 'task_id' | 'id'>;

export const EVENT_FIELDS: { readonly [K in keyof ExportedEvent]: FieldKind } = {
  at: 'int',
  transition: STORED_TRANSITIONS,
  from_status: { nullable: TASK_STATUSES },
  to_status: TASK_STATUSES,
  attempt: 'count',
  worker_id: 'text?',
  detail: 'text?',
};

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: number;
  source: { engine: string; schemaVersion: number };
  /** ISO 8601. */
  exportedAt: string;
  /** The filter the export was made with (null: every task). */
  filter: { status: string[] | null; type: string[] | null; queue: string[] | null } | null;
  /** Whether running tasks were let through (their leases belong to the source store's workers). */
  allowRunning: boolean;
}

export interface ExportCounts {
  tasks: number;
  runs: number;
  events: number;
}

/** `row`'s fields in the order of `fields`, and nothing else. */
function ordered<T extends object>(row: T, fields: { readonly [K in keyof T]?: FieldKind }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) out[key] = (row as Record<string, unknown>)[key];
  return out;
}

export function taskLine(record: TaskRecord): string {
  return JSON.stringify({
    task: ordered(record.task, TASK_FIELDS),
    runs: record.runs.map((run) => ordered(run, RUN_FIELDS)),
    events: record.events.map((event) => ordered(event, EVENT_FIELDS)),
  });
}

export function headerLine(header: ExportHeader): string {
  return JSON.stringify(header);
}

export function endLine(counts: ExportCounts): string {
  return JSON.stringify({ end: counts });
}
