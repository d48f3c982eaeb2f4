/**
 * ctx.progress and ctx.count, written for tasks whose fence the same transaction has just checked
 * (a heartbeat's fenced UPDATE, or an outcome's): these statements do not fence again.
 *   addCounts     upserts a batch's counter deltas in one statement, each (task, name) once
 *   writeReports  addCounts, and the last progress of a batch's tasks in one more (a finish,
 *                 where the outcome has already moved the task out of running)
 * Reads: counters of some tasks; totals per type (a scan of task_counters joined to tasks).
 */
import type { BatchReports } from '../../attempt-reports.js';
import type { CounterRow, CounterTotalRow } from '../../rows.js';
import type { Client, Queryable } from './fragments.js';

export async function addCounts(client: Client, reports: BatchReports): Promise<void> {
  if (reports.counts.length === 0) return;
  await client.query(
    `INSERT INTO tasklock.task_counters (task_id, name, value)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
     ON CONFLICT (task_id, name) DO UPDATE SET value = task_counters.value + excluded.value`,
    [reports.counts.map((c) => c[0]), reports.counts.map((c) => c[1]), reports.counts.map((c) => c[2])],
  );
}

/** A batch's reports: at most one statement per kind, none for a batch without any. */
export async function writeReports(client: Client, reports: BatchReports): Promise<void> {
  await addCounts(client, reports);
  if (reports.progress.length === 0) return;
  await client.query(
    'UPDATE tasklock.tasks t SET progress = p.progress FROM unnest($1::bigint[], $2::text[]) AS p (id, progress) WHERE t.id = p.id',
    [reports.progress.map((p) => p[0]), reports.progress.map((p) => p[1])],
  );
}

export async function countersOf(db: Queryable, ids: readonly number[]): Promise<CounterRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<CounterRow>('SELECT task_id, name, value FROM tasklock.task_counters WHERE task_id = ANY($1::bigint[]) ORDER BY task_id, name', [ids]);
  return rows;
}

export async function counterTotals(db: Queryable): Promise<CounterTotalRow[]> {
  const { rows } = await db.query<CounterTotalRow>(
    `SELECT t.type, c.name, sum(c.value)::bigint AS value FROM tasklock.task_counters c JOIN tasklock.tasks t ON t.id = c.task_id
     GROUP BY t.type, c.name ORDER BY t.type, c.name`,
  );
  return rows;
}
