/**
 * reclaim: running → pending (attempts left) or failed (used up), for tasks nobody runs any more:
 * their worker is gone (dead-owner) or their lease ran out (lease-expired). Not fenced by the
 * caller's lease (it holds none) but conditional on the token read in this same transaction, so
 * a task that finished or was claimed again in between is left alone. The attempt's run is closed
 * as `reclaimed` and the event says which worker lost it and why.
 *
 * The candidates come with the process group the attempt's handler recorded (if any): the caller
 * decides, per task, whether that group is known to be gone before the task is handed on.
 */
import type { TaskStatus } from '../../../task-state.js';
import type { HeldTask } from '../../rows.js';
import { recordEvent } from './events.js';
import { CLEAR_LEASE, type Client } from './fragments.js';
import { closeRun } from './runs.js';

/** The dead workers' tasks, then expired leases (oldest first, `limit`), each task once; `lock`: inside the sweep's write. */
export async function candidatesIn(client: Client, deadWorkerIds: readonly string[], now: number, limit: number, lock: boolean): Promise<HeldTask[]> {
  const columns = 't.id, t.attempts, t.locked_by, t.lease_token, r.handler_pgid, r.handler_start, r.handler_host';
  const run = 'LEFT JOIN tasklock.task_runs r ON r.task_id = t.id AND r.attempt = t.attempts';
  const forUpdate = lock ? 'FOR UPDATE OF t SKIP LOCKED' : '';
  const byId = new Map<number, HeldTask>();
  if (deadWorkerIds.length > 0) {
    const owned = await client.query<HeldTask>(
      `SELECT ${columns}, 'dead-owner' AS why FROM tasklock.tasks t ${run} WHERE t.status = 'running' AND t.locked_by = ANY($1::text[]) ORDER BY t.id ${forUpdate}`,
      [deadWorkerIds],
    );
    for (const task of owned.rows) byId.set(task.id, task);
  }
  const expired = await client.query<HeldTask>(
    `SELECT ${columns}, 'lease-expired' AS why FROM tasklock.tasks t ${run}
     WHERE t.status = 'running' AND t.lease_expires_at <= $1 ORDER BY t.lease_expires_at LIMIT $2 ${forUpdate}`,
    [now, limit],
  );
  for (const task of expired.rows) if (!byId.has(task.id)) byId.set(task.id, task);
  return [...byId.values()];
}

/** Hands on one candidate, conditional on the token it was read with; undefined: it moved meanwhile (nothing written). */
export async function reclaimTask(client: Client, task: HeldTask, now: number, detail: string): Promise<TaskStatus | undefined> {
  const { rows } = await client.query<{ status: TaskStatus; attempts: number }>(
    `UPDATE tasklock.tasks SET status = CASE WHEN attempts - released < max_attempts THEN 'pending' ELSE 'failed' END,
            finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE $3::bigint END,
            last_error = $4, run_at = $3, updated_at = $3, ${CLEAR_LEASE}
     WHERE id = $1 AND status = 'running' AND lease_token = $2
     RETURNING status, attempts`,
    [task.id, task.lease_token, now, detail],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  await closeRun(client, task.id, row.attempts, now, 'reclaimed', detail, null);
  await recordEvent(client, task.id, now, 'reclaim', 'running', row.status, row.attempts, task.locked_by, detail);
  return row.status;
}
