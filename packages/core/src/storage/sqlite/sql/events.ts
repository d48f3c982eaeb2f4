/**
 * task_events: the append-only log of transitions. Inputs: one row per transition, written in
 * the same transaction as the transition itself, so the log replays exactly to each task's
 * status. Never updated, deleted only with its task (purge, ON DELETE CASCADE). Enqueues, claims
 * and the ends of runs (complete, fail, release) write no row here: the task or run row says it
 * all, and the view task_event_log derives them (migrations 0004 and 0006). What is stored:
 * reclaim, cancel, operator retry.
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
    `INSERT INTO task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail, seq)
     VALUES (@taskId, @at, @transition, @from, @to, @attempt, @workerId, @detail, tasklock_write_seq())`,
  );
  // The log as the view task_event_log gives it (claims and run ends derived from runs, schemas 4 and 6), in each task's order.
  const forTask = db.prepare<[number], TaskEventRow>(
    `SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail
     FROM task_event_log WHERE task_id = ? ORDER BY attempt, rank, id`,
  );
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
