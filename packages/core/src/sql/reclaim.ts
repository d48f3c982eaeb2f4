/**
 * expire: running → pending (attempts left) or failed (exhausted) for tasks nobody runs any
 * more: the lease expired, or the owning worker is dead. Unfenced by the caller (it holds no
 * lease) but still conditional on the token it read in this transaction, so a task that
 * finished or was re-claimed in between is left alone. The attempt's run is closed as
 * 'lease-lost' and the event names the lost worker and why.
 */
import type Database from 'better-sqlite3';
import type { TaskStatus } from '../task-state.js';
import type { EventStatements } from './events.js';
import type { RunStatements } from './runs.js';

interface Held {
  id: number;
  attempts: number;
  locked_by: string;
  lease_token: string;
}

export function prepareReclaim(db: Database.Database, runs: RunStatements, events: EventStatements) {
  const expired = db.prepare<{ now: number; limit: number }, Held>(
    `SELECT id, attempts, locked_by, lease_token FROM tasks
     WHERE status = 'running' AND lease_expires_at <= @now ORDER BY lease_expires_at LIMIT @limit`,
  );
  const ownedBy = db.prepare<[string], Held>(
    "SELECT id, attempts, locked_by, lease_token FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running' AND locked_by = ?",
  );
  const expire = db.prepare<{ id: number; token: string; now: number; reason: string }, { status: TaskStatus; attempts: number }>(
    `UPDATE tasks SET status = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
                      finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE @now END,
                      last_error = @reason, run_at = @now, updated_at = @now,
                      lease_token = NULL, lease_expires_at = NULL, locked_by = NULL
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING status, attempts`,
  );

  function reclaim(tasks: Held[], now: number, why: string): number {
    let count = 0;
    for (const task of tasks) {
      const reason = `lease lost: ${why} (worker ${task.locked_by}, attempt ${task.attempts})`;
      const row = expire.get({ id: task.id, token: task.lease_token, now, reason });
      if (row === undefined) continue;
      runs.close(task.id, row.attempts, now, 'lease-lost', reason);
      events.record({ taskId: task.id, at: now, transition: 'expire', from: 'running', to: row.status, attempt: row.attempts, workerId: task.locked_by, detail: reason });
      count += 1;
    }
    return count;
  }

  return {
    /** Expired leases, oldest first, at most `limit` per transaction. */
    expired(now: number, limit: number): number {
      return reclaim(expired.all({ now, limit }), now, 'lease expired');
    },
    /** Every task a dead worker still holds. */
    ofDeadWorker(workerId: string, now: number, why: string): number {
      return reclaim(ownedBy.all(workerId), now, why);
    },
  };
}
