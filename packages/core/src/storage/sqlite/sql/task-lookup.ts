/**
 * Why a conditional write matched no row. Run inside the same transaction, right after the
 * UPDATE that changed nothing, so the answer describes the state that refused it.
 */
import type Database from 'better-sqlite3';
import { BadInputError, InvalidTransitionError, LeaseLostError, TaskNotFoundError, type TasklockError } from '../../../errors.js';
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import { TRANSITIONS } from '../../../task-state.js';

export function prepareTaskLookup(db: Database.Database) {
  const status = db.prepare<[number], { status: TaskStatus }>('SELECT status FROM tasks WHERE id = ?');
  return {
    /** The typed error for a refused transition: unknown id, wrong status, or a stale lease. */
    refusal(taskId: number, transition: TransitionName): TasklockError {
      const current = status.get(taskId)?.status;
      if (current === undefined) return new TaskNotFoundError(taskId);
      if (TRANSITIONS[transition].fenced) return new LeaseLostError(taskId, transition, current);
      return new InvalidTransitionError(taskId, transition, current);
    },
    /** Why recording a handler's process group changed nothing: the lease is gone, or the attempt already has one. */
    handlerRefusal(taskId: number): TasklockError {
      const refusal = this.refusal(taskId, 'heartbeat');
      if (refusal instanceof LeaseLostError || refusal instanceof TaskNotFoundError) return refusal;
      return new BadInputError(`task ${taskId}: this attempt already recorded its handler's process group`, { taskId });
    },
  };
}
