/**
 * workers: one row per worker process (id, pid, host, process start time). A worker ends in one
 * of two ways: `stopped_at` when it shut down gracefully, or `crashed_at` + `crashed_by` when
 * another process found it dead. Rows of workers that ended before a retention cutoff are
 * pruned, unless they still hold a running task (which the reclaim sweep must find them by).
 */
import type { NewWorker, WorkerRow } from '../../rows.js';
import { type Client, HOLDS_TASKS, type Queryable } from './fragments.js';

const ENDED = 'coalesce(stopped_at, crashed_at)';

/** Inserts or revives a worker row. */
export async function registerWorkerRow(client: Client, worker: NewWorker): Promise<void> {
  await client.query(
    `INSERT INTO tasklock.workers (id, pid, host, process_start, queue, types, started_at, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, process_start = excluded.process_start,
       queue = excluded.queue, types = excluded.types, started_at = excluded.started_at,
       last_seen = excluded.last_seen, stopped_at = NULL, crashed_at = NULL, crashed_by = NULL`,
    [worker.id, worker.pid, worker.host, worker.process_start, worker.queue, worker.types, worker.started_at],
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

export async function anyPrunable(db: Queryable, cutoff: number): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM tasklock.workers WHERE ${ENDED} <= $1 AND NOT ${HOLDS_TASKS} LIMIT 1`, [cutoff])).rows.length > 0;
}
