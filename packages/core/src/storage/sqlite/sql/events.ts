/**
 * task_events: the append-only log of transitions. Inputs: one row per transition, written in
 * the same transaction as the transition itself, so the log replays exactly to each task's
 * status. Never updated, deleted only with its task (purge, ON DELETE CASCADE).
 */
import type Database from 'better-sqlite3';
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import type { TaskEventRow } from '../../rows.js';

export interface EventInput {
  taskId: number;
  at: number;
  transition: TransitionName;
  from: TaskStatus | null;
  to: TaskStatus;
  attempt: number;
  workerId: string | null;
  detail: string | null;
}

export function prepareEvents(db: Database.Database) {
  const insert = db.prepare<EventInput>(
    `INSERT INTO task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
     VALUES (@taskId, @at, @transition, @from, @to, @attempt, @workerId, @detail)`,
  );
  const forTask = db.prepare<[number], TaskEventRow>('SELECT * FROM task_events WHERE task_id = ? ORDER BY id');
  return {
    record(event: EventInput): void {
      insert.run(event);
    },
    forTask(taskId: number): TaskEventRow[] {
      return forTask.all(taskId);
    },
  };
}

export type EventStatements = ReturnType<typeof prepareEvents>;
