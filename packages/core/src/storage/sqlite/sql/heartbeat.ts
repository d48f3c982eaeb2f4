/**
 * heartbeat: running → running, no event row.
 *  - per worker: one UPDATE extends the leases the worker names that it still holds and returns
 *    them, so the worker learns in the same statement which of its tasks were cancelled or
 *    reclaimed (only named ones: a task held unknowingly is left to run out, store.ts says why);
 *    its `workers.last_seen` is refreshed in the same transaction (sql/workers.ts `seen`);
 *  - per task (fenced): extends one lease and records the handler's progress; zero rows is a
 *    lost lease.
 */
import type Database from 'better-sqlite3';

export function prepareHeartbeat(db: Database.Database, workers: { seen(id: string, now: number): void }) {
  const worker = db.prepare<{ workerId: string; expiresAt: number; ids: string }, { id: number; lease_token: string }>(
    `UPDATE tasks SET lease_expires_at = @expiresAt
     WHERE id IN (SELECT value FROM json_each(@ids)) AND status = 'running' AND locked_by = @workerId
     RETURNING id, lease_token`,
  );
  const task = db.prepare<{ id: number; token: string; expiresAt: number; progress: string | null; now: number }>(
    `UPDATE tasks SET lease_expires_at = @expiresAt, progress = COALESCE(@progress, progress), updated_at = @now
     WHERE id = @id AND status = 'running' AND lease_token = @token`,
  );
  return {
    /** Lease tokens the worker still holds, by task id. */
    worker(workerId: string, now: number, leaseMs: number, taskIds: readonly number[]): Map<number, string> {
      workers.seen(workerId, now);
      const held = new Map<number, string>();
      if (taskIds.length === 0) return held;
      for (const row of worker.all({ workerId, expiresAt: now + leaseMs, ids: JSON.stringify(taskIds) })) held.set(row.id, row.lease_token);
      return held;
    },
    /** false: the fence did not hold (nothing written). */
    task(id: number, token: string, now: number, leaseMs: number, progress: string | null): boolean {
      return task.run({ id, token, expiresAt: now + leaseMs, progress, now }).changes === 1;
    },
  };
}
