/**
 * The fenced ends of an attempt, each a conditional UPDATE on
 * `id = $id AND status = 'running' AND lease_token = $token`:
 *   complete  running → succeeded, stores the result
 *   fail      running → pending (run_at = now + backoff) while the attempts that count (attempts -
 *             released) < max_attempts, else → failed
 *   release   running → pending now (graceful shutdown); `released` grows so the handed-back
 *             attempt does not use up the budget
 * Each also closes the attempt's run (the end's only record: the event log derives it) and counts
 * it in finish_counts. Zero rows: the lease is no longer this caller's, or the id is unknown; the
 * answer is then the typed refusal, read in the same transaction, and nothing was written.
 *
 * Completions, the hot path, go as one statement for the whole batch (COMPLETE_MANY_SQL: each
 * row fenced exactly as the single UPDATE is, its run closed and the ends counted per type in
 * the same statement); fails and releases, rare, go one task at a time. The counts go to this
 * connection's own rows (finish-counts.ts): finishing workers do not queue on a shared row.
 */
import type { TasklockError } from '../../../errors.js';
import type { TaskStatus } from '../../../task-state.js';
import { backoffDelayMs, type Backoff } from '../../../task.js';
import type { FinishInput } from '../../store.js';
import { CLEAR_LEASE, type Client, notifyChange, notifyEnd, notifyEndIfAwaited, NOW, nowOf, prepared } from './fragments.js';
import { countFinish } from './finish-counts.js';
import { closeRun } from './runs.js';
import { refusal } from './task-lookup.js';

/**
 * The completions as CTEs after `n` (the transaction's now): $1 ids, $2 lease tokens, $3 results
 * (JSON text), $4 the finishing workers, each id at most once; `gate`: a further condition of
 * the whole write (SQL, true: none). `done` holds the tasks completed; the rest wrote nothing.
 */
export function completeCtes(gate: string): string {
  return `
       done AS (
         UPDATE tasklock.tasks t SET status = 'succeeded', result = d.result, updated_at = n.ms, finished_at = n.ms, ${CLEAR_LEASE}
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS d (id, token, result, worker), n
         WHERE t.id = d.id AND t.status = 'running' AND t.lease_token = d.token AND ${gate}
         RETURNING t.id, t.attempts, t.type, d.worker, n.ms),
       unawaited AS (DELETE FROM tasklock.awaited a USING done WHERE a.task_id = done.id RETURNING a.task_id),
       closed AS (
         UPDATE tasklock.task_runs r SET finished_at = done.ms, finished_xid = pg_current_xact_id(), outcome = 'succeeded', error = NULL,
                finished_by = CASE WHEN r.worker_id IS NOT DISTINCT FROM done.worker THEN NULL ELSE done.worker END
         FROM done WHERE r.task_id = done.id AND r.attempt = done.attempts AND r.outcome = 'running'),
       counted AS (
         INSERT INTO tasklock.finish_counts (second, type, outcome, writer, count)
         SELECT floor(ms / 1000)::bigint, type, 'succeeded', pg_backend_pid(), count(*) FROM done GROUP BY 1, 2
         ON CONFLICT (second, type, outcome, writer) DO UPDATE SET count = finish_counts.count + excluded.count)`;
}

/** complete for a batch (completeCtes' parameters, and $5 the transaction's now, NULL: the server's): the ids completed. */
export const COMPLETE_MANY_SQL = `
  WITH n AS (SELECT coalesce($5::bigint, ${NOW}) AS ms),${completeCtes('true')}
  SELECT id, ${notifyEndIfAwaited('unawaited')} AS notified FROM done`;

type Complete = Extract<FinishInput, { kind: 'complete' }>;

const completeMany = prepared('complete_many', COMPLETE_MANY_SQL);

/** Index for index, each task's new status or its refusal. */
export async function finishTasks(client: Client, outcomes: readonly FinishInput[]): Promise<(TaskStatus | TasklockError)[]> {
  const others = outcomes.some((outcome) => outcome.kind !== 'complete');
  // Every end of the transaction at one instant; with completions only, the batch reads it itself.
  const now = others ? await nowOf(client) : null;
  const batch = completionsOf(outcomes);
  let completed = new Set<number>();
  if (batch.length > 0) {
    const { rows } = await client.query<{ id: number }>(completeMany([...completionParams(batch), now]));
    completed = new Set(rows.map((row) => row.id));
  }
  return settle(client, outcomes, completed, now);
}

/** The batch's completions, each task once (the first named). */
export function completionsOf(outcomes: readonly FinishInput[]): Complete[] {
  const once = new Map<number, Complete>();
  for (const outcome of outcomes) if (outcome.kind === 'complete' && !once.has(outcome.lease.id)) once.set(outcome.lease.id, outcome);
  return [...once.values()];
}

/** completeCtes' $1–$4. */
export function completionParams(batch: readonly Complete[]): unknown[] {
  return [batch.map((o) => o.lease.id), batch.map((o) => o.lease.leaseToken), batch.map((o) => o.result), batch.map((o) => o.workerId)];
}

/**
 * Answers each outcome in order, the completions already written (`completed`: their ids):
 * fails and releases are written here, at `now` (not null when there are any), and every
 * refusal is read here, in the transaction that refused it.
 */
export async function settle(client: Client, outcomes: readonly FinishInput[], completed: Set<number>, now: number | null): Promise<(TaskStatus | TasklockError)[]> {
  const statuses: (TaskStatus | TasklockError)[] = [];
  let wake = false;
  let ended = false;
  for (const outcome of outcomes) {
    if (outcome.kind === 'complete') {
      // A task named twice completed once: the second finds the lease gone, as it would alone.
      statuses.push(completed.delete(outcome.lease.id) ? 'succeeded' : await refusal(client, outcome.lease.id, 'complete'));
      continue;
    }
    const status = outcome.kind === 'fail' ? await failOne(client, outcome, now!) : await releaseOne(client, outcome, now!);
    if (status === undefined) statuses.push(await refusal(client, outcome.lease.id, outcome.kind));
    else statuses.push(status);
    wake ||= status === 'pending';
    ended ||= status !== undefined;
  }
  if (wake) await notifyChange(client);
  if (ended) await notifyEnd(client);
  return statuses;
}

interface Ended {
  attempts: number;
  status: TaskStatus;
  type: string;
}

async function failOne(client: Client, outcome: Extract<FinishInput, { kind: 'fail' }>, now: number): Promise<TaskStatus | undefined> {
  const { id, leaseToken: token } = outcome.lease;
  const held = (
    await client.query<{ attempts: number; released: number; max_attempts: number; backoff: string }>(
      "SELECT attempts, released, max_attempts, backoff FROM tasklock.tasks WHERE id = $1 AND status = 'running' AND lease_token = $2",
      [id, token],
    )
  ).rows[0];
  if (held === undefined) return undefined;
  const retry = held.attempts - held.released < held.max_attempts;
  const runAt = retry ? now + backoffDelayMs(JSON.parse(held.backoff) as Backoff, held.attempts) : now;
  const row = (
    await client.query<Ended>(
      `UPDATE tasklock.tasks SET status = $3, last_error = $4, run_at = $5, updated_at = $6,
              finished_at = CASE WHEN $3 = 'failed' THEN $6::bigint END, ${CLEAR_LEASE}
       WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
      [id, token, retry ? 'pending' : 'failed', outcome.error, runAt, now],
    )
  ).rows[0];
  if (row === undefined) return undefined;
  const ended = row.status === 'failed' ? 'failed' : 'retry';
  await closeRun(client, id, row.attempts, now, ended, outcome.error, outcome.workerId);
  await countFinish(client, now, row.type, ended);
  return row.status;
}

async function releaseOne(client: Client, outcome: Extract<FinishInput, { kind: 'release' }>, now: number): Promise<TaskStatus | undefined> {
  const { id, leaseToken: token } = outcome.lease;
  const row = (
    await client.query<Ended>(
      `UPDATE tasklock.tasks SET status = 'pending', run_at = $3, updated_at = $3, released = released + 1, ${CLEAR_LEASE}
       WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
      [id, token, now],
    )
  ).rows[0];
  if (row === undefined) return undefined;
  await closeRun(client, id, row.attempts, now, 'released', null, outcome.workerId);
  await countFinish(client, now, row.type, 'released');
  return row.status;
}
