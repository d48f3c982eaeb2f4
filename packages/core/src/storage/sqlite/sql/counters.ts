/**
 * ctx.progress and ctx.count, written for tasks whose fence the same transaction has just checked
 * (a heartbeat's fenced UPDATE, or an outcome's): these statements do not fence again.
 *   add       upserts counter deltas, one statement for a batch: @counts is a JSON array of
 *             [task id, name, delta] with each (task, name) once
 *   progress  stores the last progress of a batch of tasks: @progress is [[task id, JSON text]…];
 *             used on a finish, where the outcome has already moved the task out of running
 * Reads: counters of some tasks; totals per type (a scan of task_counters joined to tasks).
 */
import type Database from 'better-sqlite3';
import type { CounterRow, CounterTotalRow } from '../../rows.js';
import type { BatchReports } from '../../attempt-reports.js';

export function prepareCounters(db: Database.Database) {
  // `WHERE true`: without it SQLite would read ON CONFLICT as the join's ON.
  const add = db.prepare<{ counts: string }>(
    `INSERT INTO task_counters (task_id, name, value)
     SELECT c.value ->> 0, c.value ->> 1, c.value ->> 2 FROM json_each(@counts) AS c WHERE true
     ON CONFLICT (task_id, name) DO UPDATE SET value = value + excluded.value`,
  );
  const progress = db.prepare<{ progress: string }>(
    `UPDATE tasks SET progress = p.value ->> 1 FROM json_each(@progress) AS p WHERE tasks.id = p.value ->> 0`,
  );
  const ofTasks = db.prepare<{ ids: string }, CounterRow>(
    'SELECT task_id, name, value FROM task_counters WHERE task_id IN (SELECT value FROM json_each(@ids)) ORDER BY task_id, name',
  );
  const totals = db.prepare<[], CounterTotalRow>(
    'SELECT t.type, c.name, sum(c.value) AS value FROM task_counters c JOIN tasks t ON t.id = c.task_id GROUP BY t.type, c.name ORDER BY t.type, c.name',
  );
  return {
    /** Writes a batch's reports: at most one statement per kind, none for an empty batch. */
    write(reports: BatchReports): void {
      if (reports.counts.length > 0) add.run({ counts: JSON.stringify(reports.counts) });
      if (reports.progress.length > 0) progress.run({ progress: JSON.stringify(reports.progress) });
    },
    /** Counter deltas only (a heartbeat stores its progress in its own fenced UPDATE). */
    add(reports: BatchReports): void {
      if (reports.counts.length > 0) add.run({ counts: JSON.stringify(reports.counts) });
    },
    ofTasks(ids: readonly number[]): CounterRow[] {
      return ids.length === 0 ? [] : ofTasks.all({ ids: JSON.stringify(ids) });
    },
    totals(): CounterTotalRow[] {
      return totals.all();
    },
  };
}
