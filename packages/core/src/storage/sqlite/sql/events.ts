/**
 * task_events: the append-only log of transitions. Inputs: one row per transition, written in
 * the same transaction as the transition itself, so the log replays exactly to each task's
 * status. Never updated, deleted only with its task (purge, ON DELETE CASCADE). A claim writes no
 * row here: its run row says it all, and the view task_event_log (migration 0004) derives it.
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
  const insertMany = db.prepare<Omit<EventInput, 'taskId' | 'attempt'> & { tasks: string }>(
    `INSERT INTO task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
     SELECT t.value ->> 0, @at, @transition, @from, @to, t.value ->> 1, @workerId, @detail FROM json_each(@tasks) AS t`,
  );
  // The log as the view task_event_log derives it (claims from runs, schema 4), in each task's order.
  const forTask = db.prepare<[number], TaskEventRow>(
    `SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail
     FROM task_event_log WHERE task_id = ? ORDER BY attempt, rank, id`,
  );
  return {
    record(event: EventInput): void {
      insert.run(event);
    },
    /** The same transition of many tasks ([task id, attempt] each), in the array's order. */
    recordMany(tasks: readonly (readonly [number, number])[], event: Omit<EventInput, 'taskId' | 'attempt'>): void {
      if (tasks.length > 0) insertMany.run({ ...event, tasks: JSON.stringify(tasks) });
    },
    forTask(taskId: number): TaskEventRow[] {
      return forTask.all(taskId);
    },
  };
}

export type EventStatements = ReturnType<typeof prepareEvents>;
