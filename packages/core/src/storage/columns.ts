/**
 * The columns of the store-neutral rows (rows.ts: TaskRow, TaskRunRow), as both stores' reads
 * name them: a read that hands rows above the seam selects these, never `*`, so that a store's
 * own columns (the event stream's commit stamps, schema 8 / migration 4) stay below it.
 */
export const TASK_COLUMNS = `id, type, queue, status, priority, payload, result, last_error, progress, attempts, max_attempts, released,
  backoff, unique_key, timeout_ms, run_at, created_at, updated_at, finished_at, lease_token, lease_expires_at, locked_by`;

export const RUN_COLUMNS = `task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error, finished_by,
  handler_pgid, handler_start, handler_host`;
