/**
 * The event stream's read (migration 4, event-xid.ts): the log after a cursor, in
 * (xid, task_id, attempt, rank, id) order, only of transactions below the xmin of the
 * statement's own snapshot — every one of those has ended, so no event can later appear behind
 * a cursor handed out here; an event of a transaction still open (or of one that began before
 * it ended) waits until it is. One statement: one snapshot for the rows and for the xmin.
 */
import { formatCursor, type EventCursor } from '../../event-cursor.js';
import type { LoggedEventRow, TaskEventRow } from '../../rows.js';
import { prepared, type Queryable } from './fragments.js';

const EVENT_LOG_SQL = `
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, xid::text AS xid, rank
  FROM tasklock.task_event_log
  WHERE xid >= $1::xid8 AND (xid, task_id, attempt, rank, coalesce(id, 0)) > ($1::xid8, $2::bigint, $3::int, $4::int, $5::bigint)
    AND xid < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY xid, task_id, attempt, rank, coalesce(id, 0) LIMIT $6`;

const eventLogAfter = prepared('event_log_after', EVENT_LOG_SQL);

export async function eventLog(db: Queryable, after: EventCursor, limit: number): Promise<LoggedEventRow[]> {
  const { rows } = await db.query<TaskEventRow & { xid: string; rank: number }>(eventLogAfter([after.commit, after.task, after.attempt, after.rank, after.id, limit]));
  return rows.map(({ xid, rank, ...event }) => ({
    ...event,
    cursor: formatCursor({ commit: xid, task: Number(event.task_id), attempt: event.attempt, rank, id: event.id === null ? 0 : Number(event.id) }),
  }));
}
