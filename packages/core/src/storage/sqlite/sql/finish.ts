/**
 * The fenced ends of an attempt, each one conditional UPDATE on
 * `id = @id AND status = 'running' AND lease_token = @token`:
 *   complete  running → succeeded, stores the result
 *   fail      running → pending (run_at = now + backoff) while the attempts that count (attempts -
 *             released) < max_attempts, else → failed
 *   release   running → pending now (graceful shutdown); `released` grows so the handed-back
 *             attempt does not use up the budget, and max_attempts keeps the value the user set
 * Each also closes the attempt's task_runs row, which is the end's only record (schema 6: the
 * event log derives the end from the run), and counts it in finish_counts for the live view.
 * Zero rows: the lease is no longer this caller's (reclaimed, cancelled, finished by a newer
 * attempt) or the id is unknown; the caller raises the typed refusal and nothing was written.
 *
 * Completions, the hot path, go as a batch: a few statements for any number of tasks (the
 * UPDATE … FROM json_each walks the batch and finds each task by primary key, each row fenced
 * exactly as the single UPDATE is): one statement per task per table cost 1.27× in statement
 * overhead alone (raw claim + complete SQL, K=32: 27.5k → 35k tasks/s).
 */
import type Database from 'better-sqlite3';
import { CLEAR_LEASE } from './fragments.js';
import type { TaskStatus } from '../../../task-state.js';
import { backoffDelayMs, type Backoff } from '../../../task.js';
import type { FinishCountStatements } from './finish-counts.js';
import type { RunStatements } from './runs.js';

interface Fence {
  id: number;
  token: string;
  now: number;
}

interface Ended {
  attempts: number;
  status: TaskStatus;
  type: string;
}

/** complete for a batch: @done is a JSON array of [id, lease token, result JSON text]. */
export const COMPLETE_MANY_SQL = `
  UPDATE tasks SET status = 'succeeded', result = d.value ->> 2, updated_at = @now, finished_at = @now,
                   ${CLEAR_LEASE}
  FROM json_each(@done) AS d
  WHERE tasks.id = d.value ->> 0 AND tasks.status = 'running' AND tasks.lease_token = d.value ->> 1
  RETURNING tasks.id, tasks.attempts, tasks.type`;

export function prepareFinish(db: Database.Database, runs: RunStatements, counts: FinishCountStatements) {
  const held = db.prepare<Omit<Fence, 'now'>, { attempts: number; released: number; max_attempts: number; backoff: string }>(
    "SELECT attempts, released, max_attempts, backoff FROM tasks WHERE id = @id AND status = 'running' AND lease_token = @token",
  );
  const complete = db.prepare<Fence & { result: string }, Ended>(
    `UPDATE tasks SET status = 'succeeded', result = @result, updated_at = @now, finished_at = @now,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, type`,
  );
  const fail = db.prepare<Fence & { error: string; status: TaskStatus; runAt: number }, Ended>(
    `UPDATE tasks SET status = @status, last_error = @error, run_at = @runAt, updated_at = @now,
                      finished_at = CASE WHEN @status = 'failed' THEN @now END,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, type`,
  );
  const release = db.prepare<Fence, Ended>(
    `UPDATE tasks SET status = 'pending', run_at = @now, updated_at = @now,
                      released = released + 1,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, type`,
  );

  const completeMany = db.prepare<{ done: string; now: number }, { id: number; attempts: number; type: string }>(COMPLETE_MANY_SQL);

  function ended(fence: Fence, workerId: string, row: Ended | undefined, transition: 'complete' | 'fail' | 'release', error: string | null): TaskStatus | null {
    if (row === undefined) return null;
    const outcome = transition === 'complete' ? 'succeeded' : transition === 'release' ? 'released' : row.status === 'failed' ? 'failed' : 'retry';
    runs.close(fence.id, row.attempts, fence.now, outcome, error, workerId);
    counts.add(fence.now, row.type, outcome);
    return row.status;
  }

  return {
    /** Each returns the task's new status, or null: the fence did not hold (nothing written). */
    complete(fence: Fence, workerId: string, result: string): TaskStatus | null {
      return ended(fence, workerId, complete.get({ ...fence, result }), 'complete', null);
    },
    /**
     * Completes each of `done` whose fence holds, as `complete` would, in one statement per table.
     * Returns those that succeeded; the rest wrote nothing (the caller asks why). A task named
     * twice is in the batch once: the second is left out, and refused when tried on its own.
     */
    completeMany(done: readonly { id: number; token: string; result: string }[], workerId: string, now: number): Set<number> {
      const once = new Map<number, { id: number; token: string; result: string }>();
      for (const task of done) if (!once.has(task.id)) once.set(task.id, task);
      const completed = new Map<number, { attempts: number; type: string }>();
      const rows = completeMany.all({ done: JSON.stringify(Array.from(once.values(), (task) => [task.id, task.token, task.result])), now });
      for (const row of rows) completed.set(row.id, row);
      runs.closeMany(Array.from(completed, ([id, row]) => [id, row.attempts] as const), now, 'succeeded', workerId);
      counts.addEach(now, Array.from(completed.values(), (row) => row.type), 'succeeded');
      return new Set(completed.keys());
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
      return ended(fence, workerId, release.get(fence), 'release', null);
    },
  };
}
