/**
 * Operator transitions, conditional on the status read in the same transaction (task-lookup.ts):
 *   cancel  pending | running → cancelled (a running attempt's run is closed as 'cancelled';
 *           its worker finds the lease gone at its next heartbeat and aborts the handler)
 *   retry   failed | cancelled → pending now, with at least one attempt left
 *   purge   terminal tasks last updated at or before a cutoff are deleted with their runs and events
 * false from cancel/retry: the status moved since it was read (nothing written).
 */
import type { TaskStatus } from '../../../task-state.js';
import { recordEvent } from './events.js';
import { CLEAR_LEASE, type Client, notifyChange, notifyEnd } from './fragments.js';
import { closeRun } from './runs.js';
import type { Current } from './task-lookup.js';

export async function cancelTask(client: Client, id: number, task: Current, reason: string | null, now: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.tasks SET status = 'cancelled', updated_at = $3, finished_at = $3, ${CLEAR_LEASE} WHERE id = $1 AND status = $2`,
    [id, task.status, now],
  );
  if (rowCount !== 1) return false;
  if (task.status === 'running') await closeRun(client, id, task.attempts, now, 'cancelled', reason, null);
  await recordEvent(client, id, now, 'cancel', task.status, 'cancelled', task.attempts, task.locked_by, reason);
  await notifyEnd(client);
  return true;
}

export async function retryTask(client: Client, id: number, task: Current, now: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.tasks SET status = 'pending', run_at = $3, updated_at = $3, finished_at = NULL,
            max_attempts = GREATEST(max_attempts, attempts - released + 1)
     WHERE id = $1 AND status = $2`,
    [id, task.status, now],
  );
  if (rowCount !== 1) return false;
  await recordEvent(client, id, now, 'retry', task.status, 'pending', task.attempts, null, null);
  await notifyChange(client);
  return true;
}

/** Deletes terminal tasks of `statuses` last updated at or before `cutoff`; their runs and events go by ON DELETE CASCADE. */
export async function purgeTasks(client: Client, statuses: readonly TaskStatus[], cutoff: number): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM tasklock.tasks WHERE status = ANY($1::text[]) AND status IN ('succeeded', 'failed', 'cancelled') AND updated_at <= $2 RETURNING id),
     unmarked AS (DELETE FROM tasklock.awaited a USING gone WHERE a.task_id = gone.id)
     SELECT count(*)::int AS n FROM gone`,
    [statuses, cutoff],
  );
  return rows[0]!.n;
}
