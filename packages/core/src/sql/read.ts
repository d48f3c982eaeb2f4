/**
 * Read-only queries (no write lock, no transaction): WAL readers see the last committed state
 * and never block writers.
 */
import type Database from 'better-sqlite3';
import type { TaskStatus } from '../task-state.js';
import type { TaskRow } from '../task.js';

export interface ListFilter {
  status?: TaskStatus | undefined;
  type?: string | undefined;
  queue?: string | undefined;
  /** Return tasks with id greater than this (pagination cursor). */
  afterId?: number | undefined;
  limit?: number | undefined;
}

export interface CountRow {
  queue: string;
  type: string;
  status: TaskStatus;
  count: number;
}

export function prepareRead(db: Database.Database) {
  const get = db.prepare<[number], TaskRow>('SELECT * FROM tasks WHERE id = ?');
  const list = db.prepare<Required<Omit<ListFilter, 'status' | 'type' | 'queue'>> & { status: string | null; type: string | null; queue: string | null }, TaskRow>(
    `SELECT * FROM tasks
     WHERE (@status IS NULL OR status = @status) AND (@type IS NULL OR type = @type)
       AND (@queue IS NULL OR queue = @queue) AND id > @afterId
     ORDER BY id LIMIT @limit`,
  );
  const counts = db.prepare<[], CountRow>('SELECT queue, type, status, count(*) AS count FROM tasks GROUP BY queue, type, status');
  const oldestPending = db.prepare<[number], { run_at: number | null }>(
    "SELECT min(run_at) AS run_at FROM tasks WHERE status = 'pending' AND run_at <= ?",
  );
  const overdue = db.prepare<[number], { count: number }>(
    "SELECT count(*) AS count FROM tasks WHERE status = 'running' AND lease_expires_at <= ?",
  );
  const due = db.prepare<{ queue: string; types: string | null; now: number }, { id: number }>(
    `SELECT id FROM tasks WHERE status = 'pending' AND queue = @queue AND run_at <= @now
       AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
     LIMIT 1`,
  );
  const nextRunAt = db.prepare<{ queue: string; types: string | null }, { run_at: number | null }>(
    `SELECT min(run_at) AS run_at FROM tasks WHERE status = 'pending' AND queue = @queue
       AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))`,
  );
  const live = db.prepare<{ queue: string; types: string | null }, { count: number }>(
    `SELECT (SELECT count(*) FROM tasks WHERE status = 'pending' AND queue = @queue
               AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types))))
          + (SELECT count(*) FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running' AND queue = @queue
               AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))) AS count`,
  );
  return {
    get: (id: number) => get.get(id),
    list: (filter: ListFilter) =>
      list.all({
        status: filter.status ?? null,
        type: filter.type ?? null,
        queue: filter.queue ?? null,
        afterId: filter.afterId ?? 0,
        limit: filter.limit ?? 100,
      }),
    counts: () => counts.all(),
    oldestPendingRunAt: (now: number) => oldestPending.get(now)?.run_at ?? null,
    overdueLeases: (now: number) => overdue.get(now)?.count ?? 0,
    /** Is a task of this queue/types claimable now? (Stops at the first: served by tasks_claimable.) */
    hasDue: (queue: string, types: string | null, now: number) => due.get({ queue, types, now }) !== undefined,
    /** Earliest run_at among pending tasks of a queue/types (in the future or not); null if none. Idle path only. */
    nextRunAt: (queue: string, types: string | null) => nextRunAt.get({ queue, types })?.run_at ?? null,
    /** Pending + running tasks of a queue/types: zero means a draining worker may stop. */
    liveCount: (queue: string, types: string | null) => live.get({ queue, types })?.count ?? 0,
  };
}
