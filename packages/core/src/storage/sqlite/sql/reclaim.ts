/**
 * expire: running → pending (attempts left) or failed (exhausted) for tasks nobody runs any
 * more: the lease expired, or the owning worker is dead. Unfenced by the caller (it holds no
 * lease) but still conditional on the token it read in this transaction, so a task that
 * finished or was re-claimed in between is left alone. The attempt's run is closed as
 * 'lease-lost' and the event names the lost worker and why.
 *
 * The candidates come with the process group the attempt's handler recorded (if any): the
 * caller decides, per task, whether that group is known to be gone before it hands the task on.
 */
import type Database from 'better-sqlite3';
import type { TaskStatus } from '../../../task-state.js';
import type { EventStatements } from './events.js';
import type { RunStatements } from './runs.js';

export interface HeldTask {
  id: number;
  attempts: number;
  locked_by: string;
  lease_token: string;
  handler_pgid: number | null;
  handler_start: string | null;
  handler_host: string | null;
}

const HELD_COLUMNS = `t.id, t.attempts, t.locked_by, t.lease_token, r.handler_pgid, r.handler_start, r.handler_host`;
const CURRENT_RUN = 'LEFT JOIN task_runs r ON r.task_id = t.id AND r.attempt = t.attempts';

export function prepareReclaim(db: Database.Database, runs: RunStatements, events: EventStatements) {
  const expired = db.prepare<{ now: number; limit: number }, HeldTask>(
    `SELECT ${HELD_COLUMNS} FROM tasks t INDEXED BY tasks_running_by_lease ${CURRENT_RUN}
     WHERE t.status = 'running' AND t.lease_expires_at <= @now ORDER BY t.lease_expires_at LIMIT @limit`,
  );
  const ownedBy = db.prepare<[string], HeldTask>(
    `SELECT ${HELD_COLUMNS} FROM tasks t INDEXED BY tasks_running_by_lease ${CURRENT_RUN}
     WHERE t.status = 'running' AND t.locked_by = ?`,
  );
  const expire = db.prepare<{ id: number; token: string; now: number; reason: string }, { status: TaskStatus; attempts: number }>(
    `UPDATE tasks SET status = CASE WHEN attempts - released < max_attempts THEN 'pending' ELSE 'failed' END,
                      finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE @now END,
                      last_error = @reason, run_at = @now, updated_at = @now,
                      lease_token = NULL, lease_expires_at = NULL, locked_by = NULL
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING status, attempts`,
  );

  return {
    /** Running tasks whose lease expired, oldest first, at most `limit`. A read. */
    expired(now: number, limit: number): HeldTask[] {
      return expired.all({ now, limit });
    },
    /** Every task a worker holds. A read. */
    ownedBy(workerId: string): HeldTask[] {
      return ownedBy.all(workerId);
    },
    /** Hands one task on; `why` ends up in last_error, the run and the event. False: it moved meanwhile. */
    expire(task: HeldTask, now: number, why: string): boolean {
      const reason = `lease lost: ${why} (worker ${task.locked_by}, attempt ${task.attempts})`;
      const row = expire.get({ id: task.id, token: task.lease_token, now, reason });
      if (row === undefined) return false;
      runs.close(task.id, row.attempts, now, 'lease-lost', reason);
      events.record({ taskId: task.id, at: now, transition: 'expire', from: 'running', to: row.status, attempt: row.attempts, workerId: task.locked_by, detail: reason });
      return true;
    },
  };
}
