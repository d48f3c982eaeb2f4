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
import type Database from 'better-sqlite3';
import { CLEAR_LEASE } from './fragments.js';
import type { TaskStatus } from '../../../task-state.js';
import type { HeldTask } from '../../rows.js';
import type { EventStatements } from './events.js';
import type { RunStatements } from './runs.js';

const HELD_COLUMNS = 't.id, t.attempts, t.locked_by, t.lease_token, r.handler_pgid, r.handler_start, r.handler_host';
const CURRENT_RUN = 'LEFT JOIN task_runs r ON r.task_id = t.id AND r.attempt = t.attempts';

export function prepareReclaim(db: Database.Database, runs: RunStatements, events: EventStatements) {
  const expired = db.prepare<{ now: number; limit: number }, HeldTask>(
    `SELECT ${HELD_COLUMNS}, 'lease-expired' AS why FROM tasks t INDEXED BY tasks_running_by_lease ${CURRENT_RUN}
     WHERE t.status = 'running' AND t.lease_expires_at <= @now ORDER BY t.lease_expires_at LIMIT @limit`,
  );
  const ownedBy = db.prepare<[string], HeldTask>(
    `SELECT ${HELD_COLUMNS}, 'dead-owner' AS why FROM tasks t INDEXED BY tasks_running_by_lease ${CURRENT_RUN}
     WHERE t.status = 'running' AND t.locked_by = ?`,
  );
  const reclaim = db.prepare<{ id: number; token: string; now: number; detail: string }, { status: TaskStatus; attempts: number }>(
    `UPDATE tasks SET status = CASE WHEN attempts - released < max_attempts THEN 'pending' ELSE 'failed' END,
                      finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE @now END,
                      last_error = @detail, run_at = @now, updated_at = @now,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING status, attempts`,
  );

  return {
    /** The dead workers' tasks, then expired leases (oldest first, at most `limit`), each task once. A read. */
    candidates(deadWorkerIds: readonly string[], now: number, limit: number): HeldTask[] {
      const byId = new Map<number, HeldTask>();
      for (const id of deadWorkerIds) for (const task of ownedBy.all(id)) byId.set(task.id, task);
      // A dead worker's task whose lease also expired is one candidate: the dead owner's.
      for (const task of expired.all({ now, limit })) if (!byId.has(task.id)) byId.set(task.id, task);
      return [...byId.values()];
    },
    /** Hands one task on; `detail` goes to last_error, the run and the event. Null: it moved meanwhile. */
    reclaim(task: HeldTask, now: number, detail: string): TaskStatus | null {
      const row = reclaim.get({ id: task.id, token: task.lease_token, now, detail });
      if (row === undefined) return null;
      runs.close(task.id, row.attempts, now, 'reclaimed', detail, null);
      events.record({ taskId: task.id, at: now, transition: 'reclaim', from: 'running', to: row.status, attempt: row.attempts, workerId: task.locked_by, detail });
      return row.status;
    },
  };
}
