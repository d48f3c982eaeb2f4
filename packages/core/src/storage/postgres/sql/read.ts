/**
 * Reads of tasks: by id, a filtered page by id, counts for stats, and what a worker's claim loop
 * asks before it waits (backlog, due now, next run_at, live count). Each is one statement (or,
 * for stats, statements in one REPEATABLE READ transaction the caller opens).
 */
import type { Backlog, CountRow, FilterInput, TaskRow } from '../../rows.js';
import type { StoreCounts } from '../../store.js';
import { NOW, type Queryable, typesIn } from './fragments.js';
import { filterSql } from './task-filter.js';

export async function taskById(db: Queryable, id: number): Promise<TaskRow | undefined> {
  return (await db.query<TaskRow>('SELECT * FROM tasklock.tasks WHERE id = $1', [id])).rows[0];
}

/** Up to `limit` tasks matching `filter` after the cursor id, by id in `order`. */
export async function listTasks(db: Queryable, filter: FilterInput, order: 'asc' | 'desc', afterId: number | null, limit: number, now: number): Promise<TaskRow[]> {
  const where = filterSql(filter, now, 3);
  const cursor = order === 'asc' ? (afterId ?? 0) : (afterId ?? Number.MAX_SAFE_INTEGER);
  const { rows } = await db.query<TaskRow>(
    `SELECT * FROM tasklock.tasks WHERE id ${order === 'asc' ? '>' : '<'} $1 AND ${where.sql} ORDER BY id ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT $2`,
    [cursor, limit, ...where.params],
  );
  return rows;
}

export async function maxTaskId(db: Queryable): Promise<number> {
  return (await db.query<{ id: number | null }>('SELECT max(id) AS id FROM tasklock.tasks')).rows[0]?.id ?? 0;
}

/** Ids in (after, maxId] matching `filter`, in id order, at most `limit`: one page of a bulk move. */
export async function idsMatching(db: Queryable, filter: FilterInput, now: number, after: number, maxId: number, limit: number): Promise<number[]> {
  const where = filterSql(filter, now, 4);
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM tasklock.tasks WHERE id > $1 AND id <= $2 AND ${where.sql} ORDER BY id LIMIT $3`, [
    after,
    maxId,
    limit,
    ...where.params,
  ]);
  return rows.map((row) => row.id);
}

export async function countsAt(db: Queryable, now: number): Promise<Omit<StoreCounts, 'counters'>> {
  const counts = await db.query<CountRow>(
    `SELECT queue, type, CASE WHEN status = 'pending' AND run_at > $1 THEN 'scheduled' ELSE status END AS status, count(*)::int AS count
     FROM tasklock.tasks GROUP BY queue, type, 3`,
    [now],
  );
  const oldest = await db.query<{ run_at: number | null }>("SELECT min(run_at) AS run_at FROM tasklock.tasks WHERE status = 'pending' AND run_at <= $1", [now]);
  const overdue = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM tasklock.tasks WHERE status = 'running' AND lease_expires_at <= $1", [now]);
  return { counts: counts.rows, oldestDueRunAt: oldest.rows[0]?.run_at ?? null, overdueLeases: overdue.rows[0]?.count ?? 0 };
}

export async function backlogOf(db: Queryable, queue: string, types: readonly string[] | null): Promise<Backlog> {
  const { rows } = await db.query<Backlog>(
    `SELECT p.due, r.running, p.scheduled, p.next_run_at AS "nextRunAt", p.next_run_at - p.now AS "nextDueInMs" FROM
       (SELECT count(*) FILTER (WHERE run_at <= n.ms)::int AS due, count(*) FILTER (WHERE run_at > n.ms)::int AS scheduled,
               min(run_at) FILTER (WHERE run_at > n.ms) AS next_run_at, min(n.ms) AS now
        FROM tasklock.tasks, (SELECT ${NOW} AS ms) n WHERE status = 'pending' AND queue = $1 AND ${typesIn(2)}) AS p,
       (SELECT count(*)::int AS running FROM tasklock.tasks WHERE status = 'running' AND queue = $1 AND ${typesIn(2)}) AS r`,
    [queue, types],
  );
  return rows[0] ?? { due: 0, running: 0, scheduled: 0, nextRunAt: null, nextDueInMs: null };
}

export async function anyDue(db: Queryable, queue: string, types: readonly string[] | null): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM tasklock.tasks WHERE status = 'pending' AND queue = $1 AND run_at <= ${NOW} AND ${typesIn(2)} LIMIT 1`, [queue, types]);
  return rows.length > 0;
}

/** How far the earliest pending run_at of a queue/types is from the server's now; null when none. */
export async function nextDueIn(db: Queryable, queue: string, types: readonly string[] | null): Promise<number | null> {
  const { rows } = await db.query<{ in_ms: number | null }>(
    `SELECT min(run_at) - ${NOW} AS in_ms FROM tasklock.tasks WHERE status = 'pending' AND queue = $1 AND ${typesIn(2)}`,
    [queue, types],
  );
  return rows[0]?.in_ms ?? null;
}

export async function liveTasks(db: Queryable, queue: string, types: readonly string[] | null): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM tasklock.tasks WHERE status IN ('pending', 'running') AND queue = $1 AND ${typesIn(2)}`,
    [queue, types],
  );
  return rows[0]?.count ?? 0;
}
