/**
 * Moving tasks between stores (transfer/): whole tasks read a page at a time, and written back
 * as they were.
 *
 *  - page: up to @limit tasks of the shared filter with id > @after, by id, with their runs and
 *    their stored events (task_events, not the view: derived events come from the rows). The
 *    caller runs it in one read transaction, so a task and its runs are one moment's.
 *  - write: inside the import's write transaction (the one write path). `conflicts` reads what
 *    would be overwritten (import-conflicts.ts); then every row is inserted with its id as given;
 *    stored events get new ids in the order given, which keeps each task's commit order. Nothing
 *    else is derived or touched: finish_counts and workers describe the source store's processes.
 *    A later enqueue's id is max(id) + 1 (a rowid table), past every imported one.
 */
import type Database from 'better-sqlite3';
import { CONFLICT_LOOKUP_LIMIT } from '../../import-conflicts.js';
import type { TaskEventRow, TaskRecord, TaskRow, TaskRunRow } from '../../rows.js';
import { TASK_FILTER_SQL, type FilterParams } from './task-filter.js';
import { RUN_COLUMNS, TASK_COLUMNS } from '../../columns.js';

const EVENT_COLUMNS = 'task_id, at, transition, from_status, to_status, attempt, worker_id, detail';

/** `@a, @b, …` for a column list: rows bind by their own column names. */
function named(columns: string): string {
  return columns
    .split(',')
    .map((column) => `@${column.trim()}`)
    .join(', ');
}

export function prepareTransfer(db: Database.Database) {
  const tasks = db.prepare<FilterParams & { after: number; limit: number }, TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE id > @after AND ${TASK_FILTER_SQL} ORDER BY id LIMIT @limit`,
  );
  const runs = db.prepare<[string], TaskRunRow>(`SELECT ${RUN_COLUMNS} FROM task_runs WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, attempt`);
  const events = db.prepare<[string], TaskEventRow>(
    `SELECT id, ${EVENT_COLUMNS} FROM task_events WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, id`,
  );
  const takenIds = db.prepare<[string, number], { id: number }>('SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?');
  const heldKeys = db.prepare<[string, number], { unique_key: string }>(
    `SELECT unique_key FROM tasks WHERE status IN ('pending', 'running') AND unique_key IN (SELECT value FROM json_each(?))
     ORDER BY unique_key LIMIT ?`,
  );
  // Imported rows are events of the importing transaction (write-seq.ts), whenever they happened elsewhere.
  const insertTask = db.prepare<TaskRow>(`INSERT INTO tasks (${TASK_COLUMNS}, created_seq) VALUES (${named(TASK_COLUMNS)}, tasklock_write_seq())`);
  const insertRun = db.prepare<TaskRunRow>(
    `INSERT INTO task_runs (${RUN_COLUMNS}, started_seq, finished_seq)
     VALUES (${named(RUN_COLUMNS)}, tasklock_write_seq(), CASE WHEN @finished_at IS NULL THEN NULL ELSE tasklock_write_seq() END)`,
  );
  const insertEvent = db.prepare<TaskEventRow>(`INSERT INTO task_events (${EVENT_COLUMNS}, seq) VALUES (${named(EVENT_COLUMNS)}, tasklock_write_seq())`);
  return {
    /** One page of whole tasks; run it inside a read transaction. */
    page(filter: FilterParams, after: number, limit: number): TaskRecord[] {
      const found = tasks.all({ ...filter, after, limit });
      if (found.length === 0) return [];
      const ids = JSON.stringify(found.map((task) => task.id));
      const byId = new Map<number, TaskRecord>(found.map((task) => [task.id, { task, runs: [], events: [] }]));
      for (const run of runs.all(ids)) byId.get(run.task_id)!.runs.push(run);
      for (const event of events.all(ids)) byId.get(event.task_id)!.events.push(event);
      return [...byId.values()];
    },
    /** Ids of `ids` already taken, and live unique keys of `keys` already held (a few of each). */
    conflicts(ids: readonly number[], keys: readonly string[]): { takenIds: number[]; heldKeys: string[] } {
      return {
        takenIds: takenIds.all(JSON.stringify(ids), CONFLICT_LOOKUP_LIMIT).map((row) => row.id),
        heldKeys: keys.length === 0 ? [] : heldKeys.all(JSON.stringify(keys), CONFLICT_LOOKUP_LIMIT).map((row) => row.unique_key),
      };
    },
    /** Inserts each record's rows as given (events get new ids, in order). */
    write(records: readonly TaskRecord[]): void {
      for (const record of records) {
        insertTask.run(record.task);
        for (const run of record.runs) insertRun.run(run);
        for (const event of record.events) insertEvent.run(event);
      }
    },
  };
}
