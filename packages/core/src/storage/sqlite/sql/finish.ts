/**
 * The fenced ends of an attempt, each one conditional UPDATE on
 * `id = @id AND status = 'running' AND lease_token = @token`:
 *   complete  running → succeeded, stores the result
 *   fail      running → pending (run_at = now + backoff) while the attempts that count (attempts -
 *             released) < max_attempts, else → failed
 *   release   running → pending now (graceful shutdown); `released` grows so the handed-back
 *             attempt does not use up the budget, and max_attempts keeps the value the user set
 * Each also closes the attempt's task_runs row and writes one event. Zero rows: the lease is
 * no longer this caller's (reclaimed, cancelled, finished by a newer attempt) or the id is
 * unknown; the caller raises the typed refusal and nothing was written.
 */
import type Database from 'better-sqlite3';
import { CLEAR_LEASE } from './fragments.js';
import { firstLine } from '../../../error-text.js';
import type { TaskStatus } from '../../../task-state.js';
import { backoffDelayMs, type Backoff } from '../../../task.js';
import type { EventStatements } from './events.js';
import type { RunStatements } from './runs.js';

interface Fence {
  id: number;
  token: string;
  now: number;
}

interface Ended {
  attempts: number;
  status: TaskStatus;
  locked_by: string | null;
}

export function prepareFinish(db: Database.Database, runs: RunStatements, events: EventStatements) {
  const held = db.prepare<Omit<Fence, 'now'>, { attempts: number; released: number; max_attempts: number; backoff: string; locked_by: string }>(
    "SELECT attempts, released, max_attempts, backoff, locked_by FROM tasks WHERE id = @id AND status = 'running' AND lease_token = @token",
  );
  const complete = db.prepare<Fence & { result: string }, Ended>(
    `UPDATE tasks SET status = 'succeeded', result = @result, updated_at = @now, finished_at = @now,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, locked_by`,
  );
  const fail = db.prepare<Fence & { error: string; status: TaskStatus; runAt: number }, Ended>(
    `UPDATE tasks SET status = @status, last_error = @error, run_at = @runAt, updated_at = @now,
                      finished_at = CASE WHEN @status = 'failed' THEN @now END,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, locked_by`,
  );
  const release = db.prepare<Fence, Ended>(
    `UPDATE tasks SET status = 'pending', run_at = @now, updated_at = @now,
                      released = released + 1,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, locked_by`,
  );

  function ended(fence: Fence, workerId: string, row: Ended | undefined, transition: 'complete' | 'fail' | 'release', detail: string | null): TaskStatus | null {
    if (row === undefined) return null;
    const outcome = transition === 'complete' ? 'succeeded' : transition === 'release' ? 'released' : row.status === 'failed' ? 'failed' : 'retry';
    runs.close(fence.id, row.attempts, fence.now, outcome, transition === 'fail' ? detail : null);
    // The run row (and last_error) hold a failure whole, up to 8 KiB; the event log, a line
    // per transition, keeps its first line rather than a third copy.
    events.record({ taskId: fence.id, at: fence.now, transition, from: 'running', to: row.status, attempt: row.attempts, workerId, detail: detail === null ? null : firstLine(detail) });
    return row.status;
  }

  return {
    /** Each returns the task's new status, or null: the fence did not hold (nothing written). */
    complete(fence: Fence, workerId: string, result: string): TaskStatus | null {
      return ended(fence, workerId, complete.get({ ...fence, result }), 'complete', null);
    },
    fail(fence: Fence, workerId: string, error: string): TaskStatus | null {
      const task = held.get({ id: fence.id, token: fence.token });
      if (task === undefined) return null;
      const retry = task.attempts - task.released < task.max_attempts;
      const runAt = retry ? fence.now + backoffDelayMs(JSON.parse(task.backoff) as Backoff, task.attempts) : fence.now;
      const row = fail.get({ ...fence, error, status: retry ? 'pending' : 'failed', runAt });
      return ended(fence, workerId, row, 'fail', error);
    },
    release(fence: Fence, workerId: string): TaskStatus | null {
      return ended(fence, workerId, release.get(fence), 'release', 'worker shut down before the task finished');
    },
  };
}
