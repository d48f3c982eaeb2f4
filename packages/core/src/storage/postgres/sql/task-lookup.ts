/**
 * A task's status as the transaction sees it: what operator moves start from, and why a
 * conditional write matched no row. Run inside the same transaction, right after the UPDATE
 * that changed nothing, so the answer describes the state that refused it.
 */
import type { TasklockError } from '../../../errors.js';
import type { TaskStatus, TransitionName } from '../../../task-state.js';
import { handlerRefusalOf, refusalOf } from '../../refusal.js';
import type { Client } from './fragments.js';

export interface Current {
  status: TaskStatus;
  attempts: number;
  locked_by: string | null;
}

export async function current(client: Client, id: number): Promise<Current | undefined> {
  return (await client.query<Current>('SELECT status, attempts, locked_by FROM tasklock.tasks WHERE id = $1', [id])).rows[0];
}

/** The typed error for a refused transition: unknown id, wrong status, or a stale lease. */
export async function refusal(client: Client, id: number, transition: TransitionName): Promise<TasklockError> {
  return refusalOf(id, transition, (await current(client, id))?.status);
}

/** Why recording a handler's process group changed nothing: the lease is gone, or the attempt already has one. */
export async function handlerRefusal(client: Client, id: number): Promise<TasklockError> {
  return handlerRefusalOf(id, (await current(client, id))?.status);
}
