/**
 * The fenced ends of an attempt, each one conditional UPDATE on
 * `id = $id AND status = 'running' AND lease_token = $token`:
 *   complete  running → succeeded, stores the result
 *   fail      running → pending (run_at = now + backoff) while the attempts that count (attempts -
 *             released) < max_attempts, else → failed
 *   release   running → pending now (graceful shutdown); `released` grows so the handed-back
 *             attempt does not use up the budget
 * Each also closes the attempt's run (the end's only record: the event log derives it) and counts
 * it in finish_counts. Zero rows: the lease is no longer this caller's, or the id is unknown; the
 * answer is then the typed refusal, read in the same transaction, and nothing was written.
 */
import type { TasklockError } from '../../../errors.js';
import type { TaskStatus } from '../../../task-state.js';
import { backoffDelayMs, type Backoff } from '../../../task.js';
import type { FinishInput } from '../../store.js';
import { CLEAR_LEASE, type Client, notifyChange } from './fragments.js';
import { countFinish } from './finish-counts.js';
import { closeRun } from './runs.js';
import { refusal } from './task-lookup.js';

/** Index for index, each task's new status or its refusal. */
export async function finishTasks(client: Client, outcomes: readonly FinishInput[], now: number): Promise<(TaskStatus | TasklockError)[]> {
  const statuses: (TaskStatus | TasklockError)[] = [];
  let wake = false;
  for (const outcome of outcomes) {
    const { id, leaseToken: token } = outcome.lease;
    let row: { attempts: number; status: TaskStatus; type: string } | undefined;
    let error: string | null = null;
    if (outcome.kind === 'complete') {
      row = (
        await client.query(
          `UPDATE tasklock.tasks SET status = 'succeeded', result = $3, updated_at = $4, finished_at = $4, ${CLEAR_LEASE}
           WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
          [id, token, outcome.result, now],
        )
      ).rows[0];
    } else if (outcome.kind === 'fail') {
      error = outcome.error;
      const held = (
        await client.query<{ attempts: number; released: number; max_attempts: number; backoff: string }>(
          "SELECT attempts, released, max_attempts, backoff FROM tasklock.tasks WHERE id = $1 AND status = 'running' AND lease_token = $2",
          [id, token],
        )
      ).rows[0];
      if (held !== undefined) {
        const retry = held.attempts - held.released < held.max_attempts;
        const runAt = retry ? now + backoffDelayMs(JSON.parse(held.backoff) as Backoff, held.attempts) : now;
        row = (
          await client.query(
            `UPDATE tasklock.tasks SET status = $3, last_error = $4, run_at = $5, updated_at = $6,
                    finished_at = CASE WHEN $3 = 'failed' THEN $6::bigint END, ${CLEAR_LEASE}
             WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
            [id, token, retry ? 'pending' : 'failed', outcome.error, runAt, now],
          )
        ).rows[0];
        wake ||= retry;
      }
    } else {
      row = (
        await client.query(
          `UPDATE tasklock.tasks SET status = 'pending', run_at = $3, updated_at = $3, released = released + 1, ${CLEAR_LEASE}
           WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
          [id, token, now],
        )
      ).rows[0];
      wake = true;
    }
    if (row === undefined) {
      statuses.push(await refusal(client, id, outcome.kind));
      continue;
    }
    const ended = outcome.kind === 'complete' ? 'succeeded' : outcome.kind === 'release' ? 'released' : row.status === 'failed' ? 'failed' : 'retry';
    await closeRun(client, id, row.attempts, now, ended, error, outcome.workerId);
    await countFinish(client, now, row.type, ended);
    statuses.push(row.status);
  }
  if (wake) await notifyChange(client);
  return statuses;
}
