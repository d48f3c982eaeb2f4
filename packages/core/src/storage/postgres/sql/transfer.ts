/**
 * Moving tasks between stores on PostgreSQL (transfer/), as the SQLite store's sql/transfer.ts:
 *
 *  - exportPageIn: a page of whole tasks (rows, runs, stored events from task_events, not the
 *    view); the caller runs it in one REPEATABLE READ transaction, so the page is one snapshot.
 *  - importIn: inside the import's write transaction (pg-write.ts). A text holding NUL is refused
 *    first (PostgreSQL cannot store it). Then it takes the tasks table in EXCLUSIVE mode (readers
 *    go on; enqueues, claims and moves wait for the commit): no id or unique key can be taken
 *    between the check and the insert, and every id the identity sequence handed out before is
 *    committed or rolled back by then. Rows go in with their ids as given, in batches of
 *    json_populate_recordset (one statement per batch, columns by name); stored events get new
 *    ids in the order given. Last, listeners are notified and the sequence is moved past the
 *    largest imported id, never back: later enqueues get fresh ids. (setval is not undone by a
 *    rollback; a failed commit after it only skips ids.)
 */
import type pg from 'pg';
import { BadInputError } from '../../../errors.js';
import { CONFLICT_LOOKUP_LIMIT, importConflict, importKeys } from '../../import-conflicts.js';
import type { FilterInput, TaskEventRow, TaskRecord, TaskRow, TaskRunRow } from '../../rows.js';
import { CHANGE_CHANNEL } from '../pg-change-signal.js';
import { filterSql } from './task-filter.js';
import { RUN_COLUMNS, TASK_COLUMNS } from '../../columns.js';

type Client = pg.ClientBase;

/**
 * Records per INSERT, and their JSON's size: a batch is one parameter, held whole by the client
 * and the server (tasks of 1 MiB payloads would make a 1,000-task batch a gigabyte).
 */
const BATCH = 1000;
const BATCH_CHARS = 8 * 1024 * 1024;

const EVENT_COLUMNS = 'task_id, at, transition, from_status, to_status, attempt, worker_id, detail';

export async function exportPageIn(client: Client, filter: FilterInput, now: number, afterId: number, limit: number): Promise<TaskRecord[]> {
  const where = filterSql(filter, now, 3);
  const found = (await client.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasklock.tasks WHERE id > $1 AND ${where.sql} ORDER BY id LIMIT $2`, [afterId, limit, ...where.params])).rows;
  if (found.length === 0) return [];
  const ids = found.map((task) => task.id);
  const byId = new Map<number, TaskRecord>(found.map((task) => [task.id, { task, runs: [], events: [] }]));
  const runs = await client.query<TaskRunRow>(`SELECT ${RUN_COLUMNS} FROM tasklock.task_runs WHERE task_id = ANY($1::bigint[]) ORDER BY task_id, attempt`, [ids]);
  for (const run of runs.rows) byId.get(run.task_id)!.runs.push(run);
  const events = await client.query<TaskEventRow>(`SELECT id, ${EVENT_COLUMNS} FROM tasklock.task_events WHERE task_id = ANY($1::bigint[]) ORDER BY task_id, id`, [ids]);
  for (const event of events.rows) byId.get(event.task_id)!.events.push(event);
  return [...byId.values()];
}

export async function importIn(client: Client, records: readonly TaskRecord[]): Promise<void> {
  refuseNul(records);
  await client.query('LOCK TABLE tasklock.tasks IN EXCLUSIVE MODE');
  const { ids, liveKeys } = importKeys(records);
  const taken = await client.query<{ id: number }>('SELECT id FROM tasklock.tasks WHERE id = ANY($1::bigint[]) ORDER BY id LIMIT $2', [ids, CONFLICT_LOOKUP_LIMIT]);
  const held = await client.query<{ unique_key: string }>(
    `SELECT unique_key FROM tasklock.tasks WHERE status IN ('pending', 'running') AND unique_key = ANY($1::text[]) ORDER BY unique_key LIMIT $2`,
    [liveKeys, CONFLICT_LOOKUP_LIMIT],
  );
  const conflict = importConflict(
    taken.rows.map((row) => row.id),
    held.rows.map((row) => row.unique_key),
  );
  if (conflict !== null) throw conflict;
  for (const batch of batches(records)) await insertBatch(client, batch);
  if (ids.length === 0) return;
  // Idle workers listening on the target wake for the imported pending tasks.
  await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
  await client.query(
    `SELECT setval(seq, greatest($1::bigint, coalesce((SELECT last_value FROM pg_sequences WHERE format('%I.%I', schemaname, sequencename)::regclass = seq::regclass), 1)))
     FROM pg_get_serial_sequence('tasklock.tasks', 'id') AS seq`,
    [ids.reduce((max, id) => Math.max(max, id), 0)],
  );
}

/** One batch's tasks, then their runs, then their stored events (in the order given, for their new ids). */
async function insertBatch(client: Client, batch: readonly TaskRecord[]): Promise<void> {
  // Imported rows are events of this transaction (event-xid.ts): `SELECT *` names every column, so the stamps are given here.
  const xid = (await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid;
  const tasks = batch.map((r) => ({ ...r.task, created_xid: xid }));
  await client.query('INSERT INTO tasklock.tasks SELECT * FROM json_populate_recordset(NULL::tasklock.tasks, $1::json)', [JSON.stringify(tasks)]);
  const runs = batch.flatMap((r) => r.runs.map((run) => ({ ...run, started_xid: xid, finished_xid: run.finished_at === null ? null : xid })));
  if (runs.length > 0) {
    await client.query('INSERT INTO tasklock.task_runs SELECT * FROM json_populate_recordset(NULL::tasklock.task_runs, $1::json)', [JSON.stringify(runs)]);
  }
  const events = batch.flatMap((r) => r.events);
  if (events.length > 0) {
    await client.query(
      `INSERT INTO tasklock.task_events (${EVENT_COLUMNS})
       SELECT ${EVENT_COLUMNS} FROM json_populate_recordset(NULL::tasklock.task_events, $1::json) WITH ORDINALITY AS e ORDER BY e.ordinality`,
      [JSON.stringify(events)],
    );
  }
}

/** Consecutive records, at most BATCH of them and about BATCH_CHARS of text (a bigger record goes alone). */
function* batches(records: readonly TaskRecord[]): Generator<TaskRecord[]> {
  let batch: TaskRecord[] = [];
  let chars = 0;
  for (const record of records) {
    const size = textSize(record);
    if (batch.length > 0 && (batch.length >= BATCH || chars + size > BATCH_CHARS)) {
      yield batch;
      batch = [];
      chars = 0;
    }
    batch.push(record);
    chars += size;
  }
  if (batch.length > 0) yield batch;
}

/** The text a record carries (its JSON is a little more). */
function textSize({ task, runs, events }: TaskRecord): number {
  let chars = 0;
  for (const row of [task, ...runs, ...events]) for (const value of Object.values(row)) if (typeof value === 'string') chars += value.length;
  return chars;
}

/**
 * PostgreSQL text cannot hold a NUL character; SQLite's can (a handler's error message may carry
 * one). Such a task is refused by name before anything is sent, rather than as the server's
 * "unsupported Unicode escape sequence" halfway through the import.
 */
function refuseNul(records: readonly TaskRecord[]): void {
  for (const { task, runs, events } of records) {
    const rows: [string, object][] = [['task', task], ...runs.map((run): [string, object] => [`run ${run.attempt}`, run]), ...events.map((event): [string, object] => ['a stored event', event])];
    for (const [what, row] of rows) {
      const field = Object.entries(row).find(([, value]) => typeof value === 'string' && value.includes('\0'));
      if (field !== undefined) {
        throw new BadInputError(`import: task ${task.id}: ${what}'s ${field[0]} holds a NUL character, which PostgreSQL text cannot store; nothing was imported`, {
          taskId: task.id,
        });
      }
    }
  }
}
