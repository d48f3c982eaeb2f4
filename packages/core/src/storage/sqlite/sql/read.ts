/**
 * Read-only queries (no write lock, no transaction): WAL readers see the last committed state
 * and never block writers.
 */
import type Database from 'better-sqlite3';
import { TYPE_IN_TYPES } from './fragments.js';
import type { Backlog, CountRow, TaskRow } from '../../rows.js';
import { TASK_FILTER_SQL, type FilterParams } from './task-filter.js';

export function prepareRead(db: Database.Database) {
  const get = db.prepare<[number], TaskRow>('SELECT * FROM tasks WHERE id = ?');
  // Keyset pages by id in either direction: the cursor is the last id shown, so a page never
  // repeats or skips a task whatever was written between two pages.
  type ListParams = FilterParams & { cursor: number; limit: number };
  const listAsc = db.prepare<ListParams, TaskRow>(`SELECT * FROM tasks WHERE id > @cursor AND ${TASK_FILTER_SQL} ORDER BY id LIMIT @limit`);
  const listDesc = db.prepare<ListParams, TaskRow>(`SELECT * FROM tasks WHERE id < @cursor AND ${TASK_FILTER_SQL} ORDER BY id DESC LIMIT @limit`);
  // A full scan (stats is an occasional look, not a loop: the live view reads monitor.ts instead).
  const counts = db.prepare<{ now: number }, CountRow>(
    `SELECT queue, type, CASE WHEN status = 'pending' AND run_at > @now THEN 'scheduled' ELSE status END AS status, count(*) AS count
     FROM tasks GROUP BY queue, type, 3`,
  );
  const oldestPending = db.prepare<[number], { run_at: number | null }>(
    "SELECT min(run_at) AS run_at FROM tasks WHERE status = 'pending' AND run_at <= ?",
  );
  const overdue = db.prepare<[number], { count: number }>(
    "SELECT count(*) AS count FROM tasks WHERE status = 'running' AND lease_expires_at <= ?",
  );
  const due = db.prepare<{ queue: string; types: string | null; now: number }, { id: number }>(
    `SELECT id FROM tasks WHERE status = 'pending' AND queue = @queue AND run_at <= @now
       AND ${TYPE_IN_TYPES}
     LIMIT 1`,
  );
  const nextRunAt = db.prepare<{ queue: string; types: string | null }, { run_at: number | null }>(
    `SELECT min(run_at) AS run_at FROM tasks WHERE status = 'pending' AND queue = @queue
       AND ${TYPE_IN_TYPES}`,
  );
  const live = db.prepare<{ queue: string; types: string | null }, { count: number }>(
    `SELECT (SELECT count(*) FROM tasks WHERE status = 'pending' AND queue = @queue
               AND ${TYPE_IN_TYPES})
          + (SELECT count(*) FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running' AND queue = @queue
               AND ${TYPE_IN_TYPES}) AS count`,
  );
  // Walks the queue's pending entries in tasks_claimable and its running ones: the live set only.
  const backlog = db.prepare<{ queue: string; types: string | null; now: number }, Backlog>(
    `SELECT p.due, r.running, p.scheduled, p.next_run_at AS nextRunAt, p.next_run_at - @now AS nextDueInMs FROM
       (SELECT count(*) FILTER (WHERE run_at <= @now) AS due, count(*) FILTER (WHERE run_at > @now) AS scheduled,
               min(run_at) FILTER (WHERE run_at > @now) AS next_run_at
        FROM tasks WHERE status = 'pending' AND queue = @queue
          AND ${TYPE_IN_TYPES}) AS p,
       (SELECT count(*) AS running FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running' AND queue = @queue
          AND ${TYPE_IN_TYPES}) AS r`,
  );
  return {
    get: (id: number) => get.get(id),
    /** Up to `limit` tasks after the cursor id in the given order (no cursor: from the start). */
    list: (filter: FilterParams, order: 'asc' | 'desc', cursor: number | null, limit: number) =>
      order === 'asc'
        ? listAsc.all({ ...filter, cursor: cursor ?? 0, limit })
        : listDesc.all({ ...filter, cursor: cursor ?? Number.MAX_SAFE_INTEGER, limit }),
    counts: (now: number) => counts.all({ now }),
    oldestPendingRunAt: (now: number) => oldestPending.get(now)?.run_at ?? null,
    overdueLeases: (now: number) => overdue.get(now)?.count ?? 0,
    /** Is a task of this queue/types claimable now? (Stops at the first: served by tasks_claimable.) */
    hasDue: (queue: string, types: string | null, now: number) => due.get({ queue, types, now }) !== undefined,
    /** Earliest run_at among pending tasks of a queue/types (in the future or not); null if none. Idle path only. */
    nextRunAt: (queue: string, types: string | null) => nextRunAt.get({ queue, types })?.run_at ?? null,
    /** Pending (due or scheduled) + running tasks of a queue/types. */
    liveCount: (queue: string, types: string | null) => live.get({ queue, types })?.count ?? 0,
    /** Due, running and scheduled tasks of a queue/types: when a draining worker may stop. */
    backlog: (queue: string, types: string | null, now: number): Backlog =>
      backlog.get({ queue, types, now }) ?? { due: 0, running: 0, scheduled: 0, nextRunAt: null, nextDueInMs: null },
  };
}
