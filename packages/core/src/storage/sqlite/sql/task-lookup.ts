/**
 * Why a conditional write matched no row. Run inside the same transaction, right after the
 * UPDATE that changed nothing, so the answer describes the state that refused it.
 */
import type Database from 'better-sqlite3';
import type { TasklockError } from '../../../errors.js';
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import { handlerRefusalOf, refusalOf } from '../../refusal.js';

export function prepareTaskLookup(db: Database.Database) {
  const status = db.prepare<[number], { status: TaskStatus }>('SELECT status FROM tasks WHERE id = ?');
  return {
    /** The typed error for a refused transition: unknown id, wrong status, or a stale lease. */
    refusal(taskId: number, transition: TransitionName): TasklockError {
      return refusalOf(taskId, transition, status.get(taskId)?.status);
    },
    /** Why recording a handler's process group changed nothing: the lease is gone, or the attempt already has one. */
    handlerRefusal(taskId: number): TasklockError {
      return handlerRefusalOf(taskId, status.get(taskId)?.status);
    },
  };
}
