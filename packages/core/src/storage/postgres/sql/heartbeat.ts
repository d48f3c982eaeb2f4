/**
 * heartbeat: extends a running task's lease (fenced by its token) and stores its progress;
 * heartbeatWorker extends the leases a worker names (and still holds) and refreshes its last_seen. Zero rows for
 * the single heartbeat: the lease is gone (the caller raises the refusal).
 */
import { type Client, NOW } from './fragments.js';

/** false: the lease is no longer held (nothing written). */
export async function extendLease(client: Client, id: number, token: string, leaseMs: number, progress: string | null): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.tasks SET lease_expires_at = ${NOW} + $3, progress = COALESCE($4, progress), updated_at = ${NOW}
     WHERE id = $1 AND status = 'running' AND lease_token = $2`,
    [id, token, leaseMs, progress],
  );
  return rowCount === 1;
}

/** Of the tasks named, the leases `workerId` still holds (id → token), each extended. */
export async function extendWorkerLeases(client: Client, workerId: string, leaseMs: number, taskIds: readonly number[]): Promise<Map<number, string>> {
  // A heartbeat revives a worker wrongly found dead (sql/workers.ts says why).
  await client.query(`UPDATE tasklock.workers SET last_seen = ${NOW}, crashed_at = NULL, crashed_by = NULL WHERE id = $1 AND stopped_at IS NULL`, [workerId]);
  if (taskIds.length === 0) return new Map();
  const { rows } = await client.query<{ id: number; lease_token: string }>(
    `UPDATE tasklock.tasks SET lease_expires_at = ${NOW} + $2 WHERE id = ANY($3::bigint[]) AND status = 'running' AND locked_by = $1 RETURNING id, lease_token`,
    [workerId, leaseMs, taskIds],
  );
  return new Map(rows.map((row) => [row.id, row.lease_token]));
}
