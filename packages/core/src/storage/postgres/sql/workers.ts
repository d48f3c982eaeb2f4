/**
 * workers: one row per worker process (id, pid, host, process start time). A worker ends in one
 * of two ways: `stopped_at` when it shut down gracefully, or `crashed_at` + `crashed_by` when
 * another process found it dead: on its own host by its pid, on any other host by a heartbeat
 * (`last_seen`, the server's clock) older than the worker's own `dead_after_ms`. A heartbeat
 * revives a worker wrongly found dead (it was only silent: its tasks are gone, its row must not
 * stay "crashed" while it runs). Rows of workers that ended before a retention cutoff are
 * pruned, unless they still hold a running task (which the reclaim sweep must find them by).
 */
import type { NewWorker, WorkerRow } from '../../rows.js';
import { type Client, HOLDS_TASKS, NOW, type Queryable } from './fragments.js';

const ENDED = 'coalesce(stopped_at, crashed_at)';
/** The worker's heartbeat is older than its own bound, `now` being the server's clock. */
const silentBy = (now: string) => `dead_after_ms IS NOT NULL AND last_seen < ${now} - dead_after_ms`;

/** Inserts or revives a worker row. */
export async function registerWorkerRow(client: Client, worker: NewWorker): Promise<void> {
  await client.query(
    // last_seen by the server's clock: the silence bound is judged by it.
    `INSERT INTO tasklock.workers (id, pid, host, process_start, queue, types, started_at, last_seen, dead_after_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, ${NOW}, $8)
     ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, process_start = excluded.process_start,
       queue = excluded.queue, types = excluded.types, started_at = excluded.started_at,
       last_seen = excluded.last_seen, dead_after_ms = excluded.dead_after_ms, stopped_at = NULL, crashed_at = NULL, crashed_by = NULL`,
    [worker.id, worker.pid, worker.host, worker.process_start, worker.queue, worker.types, worker.started_at, worker.dead_after_ms],
  );
}

export async function markStopped(client: Client, id: string, now: number): Promise<void> {
  await client.query(`UPDATE tasklock.workers SET stopped_at = $2 WHERE id = $1 AND ${ENDED} IS NULL`, [id, now]);
}

export async function markCrashed(client: Client, id: string, now: number, by: string): Promise<void> {
  await client.query(`UPDATE tasklock.workers SET crashed_at = $2, crashed_by = $3 WHERE id = $1 AND ${ENDED} IS NULL`, [id, now, by]);
}

/** Deletes the rows of workers that ended at or before `before` and hold no task; answers how many. */
export async function pruneWorkers(client: Client, before: number): Promise<number> {
  return (await client.query(`DELETE FROM tasklock.workers WHERE ${ENDED} <= $1 AND NOT ${HOLDS_TASKS}`, [before])).rowCount ?? 0;
}

export async function allWorkers(db: Queryable): Promise<WorkerRow[]> {
  return (await db.query<WorkerRow>('SELECT * FROM tasklock.workers ORDER BY started_at DESC, id')).rows;
}

/** Workers of `host` not yet ended, or ended but still holding running tasks. */
export async function workersOf(db: Queryable, host: string): Promise<WorkerRow[]> {
  return (await db.query<WorkerRow>(`SELECT * FROM tasklock.workers WHERE host = $1 AND (${ENDED} IS NULL OR ${HOLDS_TASKS})`, [host])).rows;
}

/** Workers of other hosts than `host`, not ended, silent past their bound by the server's clock. */
export async function silentElsewhere(db: Queryable, host: string): Promise<WorkerRow[]> {
  return (await db.query<WorkerRow>(`SELECT * FROM tasklock.workers WHERE host <> $1 AND ${ENDED} IS NULL AND ${silentBy(NOW)}`, [host])).rows;
}

/**
 * Of `ids`, those still silent past their bound at `now`, their rows locked: a worker's heartbeat
 * (which updates its row first) then waits for the reclaim, so it either landed before and keeps
 * its tasks, or finds them gone after.
 */
export async function lockStillSilent(client: Client, ids: readonly string[], now: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM tasklock.workers WHERE id = ANY($1::text[]) AND ${ENDED} IS NULL AND ${silentBy('$2')} ORDER BY id FOR UPDATE`,
    [ids, now],
  );
  return rows.map((row) => row.id);
}

export async function anyPrunable(db: Queryable, cutoff: number): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM tasklock.workers WHERE ${ENDED} <= $1 AND NOT ${HOLDS_TASKS} LIMIT 1`, [cutoff])).rows.length > 0;
}
