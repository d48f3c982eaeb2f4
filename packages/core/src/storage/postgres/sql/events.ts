/**
 * task_events: the moves that store their own event (cancel, retry, reclaim); enqueues, claims
 * and ends are derived from the task and run rows by the view task_event_log (schema.ts).
 */
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import type { TaskEventRow } from '../../rows.js';
import type { Client, Queryable } from './fragments.js';

export async function recordEvent(
  client: Client,
  taskId: number,
  at: number,
  transition: TransitionName,
  from: TaskStatus | null,
  to: TaskStatus,
  attempt: number,
  workerId: string | null,
  detail: string | null,
): Promise<void> {
  await client.query(
    `INSERT INTO tasklock.task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [taskId, at, transition, from, to, attempt, workerId, detail],
  );
}

/** A task's whole log, stored and derived, in the order its moves happened. */
export async function eventsOf(db: Queryable, taskId: number): Promise<TaskEventRow[]> {
  return (
    await db.query<TaskEventRow>(
      `SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail
       FROM tasklock.task_event_log WHERE task_id = $1 ORDER BY attempt, rank, id`,
      [taskId],
    )
  ).rows;
}
