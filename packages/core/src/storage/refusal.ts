/**
 * Why a conditional write matched no row, from the status the store read right after it, in
 * the same transaction: the same typed answer whichever store refused.
 */
import { BadInputError, InvalidTransitionError, LeaseLostError, TaskNotFoundError, type TasklockError } from '../errors.js';
import { TRANSITIONS, type TaskStatus, type TransitionName } from '../task-state.js';

/** Unknown id, a stale lease (fenced moves), or a status the move does not start from. */
export function refusalOf(taskId: number, transition: TransitionName, current: TaskStatus | undefined): TasklockError {
  if (current === undefined) return new TaskNotFoundError(taskId);
  if (TRANSITIONS[transition].fenced) return new LeaseLostError(taskId, transition, current);
  return new InvalidTransitionError(taskId, transition, current);
}

/** Recording a handler's process group changed nothing: the lease is gone, or the attempt already has one. */
export function handlerRefusalOf(taskId: number, current: TaskStatus | undefined): TasklockError {
  const refusal = refusalOf(taskId, 'heartbeat', current);
  if (refusal instanceof LeaseLostError || refusal instanceof TaskNotFoundError) return refusal;
  return new BadInputError(`task ${taskId}: this attempt already recorded its handler's process group`, { taskId });
}
