/**
 * The event stream's read (schema 8): the log after a cursor, in delivery order
 * (seq, task_id, attempt, rank, id). Writes are serialised and each transaction's seq is taken
 * inside it (write-seq.ts), so a snapshot holds every transaction up to some seq and none after:
 * all it shows can be delivered. Read only; `seq >= @commit` reaches each arm of the view
 * through its seq index.
 */
import type Database from 'better-sqlite3';
import { formatCursor, type EventCursor } from '../../event-cursor.js';
import type { LoggedEventRow, TaskEventRow } from '../../rows.js';

type Row = TaskEventRow & { seq: number; rank: number };

export function prepareEventLog(db: Database.Database) {
  const after = db.prepare<{ commit: number; task: number; attempt: number; rank: number; id: number; limit: number }, Row>(
    `SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, seq, rank
     FROM task_event_log
     WHERE seq >= @commit AND (seq, task_id, attempt, rank, coalesce(id, 0)) > (@commit, @task, @attempt, @rank, @id)
     ORDER BY seq, task_id, attempt, rank, coalesce(id, 0) LIMIT @limit`,
  );
  return (cursor: EventCursor, limit: number): LoggedEventRow[] =>
    after.all({ ...cursor, commit: Number(cursor.commit), limit }).map(({ seq, rank, ...event }) => ({
      ...event,
      cursor: formatCursor({ commit: String(seq), task: event.task_id, attempt: event.attempt, rank, id: event.id ?? 0 }),
    }));
}
