/**
 * Why a conditional write matched no row. Run inside the same transaction, right after the
 * UPDATE that changed nothing, so the answer describes the state that refused it.
 */
import type Database from 'better-sqlite3';
import { InvalidTransitionError, LeaseLostError, TaskNotFoundError } from '../../../errors.js';
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import { TRANSITIONS } from '../../../task-state.js';

export function prepareTaskLookup(db: Database.Database) {
  const status = db.prepare<[number], { status: TaskStatus }>('SELECT status FROM tasks WHERE id = ?');
  return {
    /** The typed error for a refused transition: unknown id, wrong status, or a stale lease. */
    refusal(taskId: number, transition: TransitionName): Error {
      const current = status.get(taskId)?.status;
      if (current === undefined) return new TaskNotFoundError(taskId);
      if (TRANSITIONS[transition].fenced) return new LeaseLostError(taskId, transition, current);
      return new InvalidTransitionError(taskId, transition, current);
    },
  };
}
