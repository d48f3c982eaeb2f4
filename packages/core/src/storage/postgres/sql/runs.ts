/**
 * task_runs: one row per attempt, opened by claim (outcome 'running') and closed by the
 * transition that ends the attempt, in the same transaction (claim.ts opens them in its statement). (task_id, attempt) is the key, so
 * attempts = number of runs always holds. A run may record the process group its handler runs
 * in (fenced like any write about a running attempt): the reclaim sweep on that host kills the
 * group before the task can start again.
 */
import type { HandlerProcess, RunOutcome, TaskRunRow } from '../../rows.js';
import type { Client, Queryable } from './fragments.js';
import { RUN_COLUMNS } from '../../columns.js';

/** `finishedBy`: who ended it (complete, fail, release), kept only when not the run's own worker; null when a move that stores its own event did (reclaim, cancel). */
export async function closeRun(client: Client, taskId: number, attempt: number, now: number, outcome: RunOutcome, error: string | null, finishedBy: string | null): Promise<void> {
  await client.query(
    `UPDATE tasklock.task_runs SET finished_at = $3, finished_xid = pg_current_xact_id(), outcome = $4, error = $5,
            finished_by = CASE WHEN worker_id IS NOT DISTINCT FROM $6::text THEN NULL ELSE $6::text END
     WHERE task_id = $1 AND attempt = $2 AND outcome = 'running'`,
    [taskId, attempt, now, outcome, error, finishedBy],
  );
}

/** Fenced by the lease: only the attempt that holds the task records its group, and only once. false: nothing written. */
export async function recordHandlerOn(client: Client, taskId: number, token: string, handler: HandlerProcess): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.task_runs SET handler_pgid = $3, handler_start = $4, handler_host = $5
     WHERE task_id = $1 AND outcome = 'running' AND handler_pgid IS NULL
       AND attempt = (SELECT attempts FROM tasklock.tasks WHERE id = $1 AND status = 'running' AND lease_token = $2)`,
    [taskId, token, handler.pgid, handler.start, handler.host],
  );
  return rowCount === 1;
}

export async function runsOf(db: Queryable, taskId: number): Promise<TaskRunRow[]> {
  return (await db.query<TaskRunRow>(`SELECT ${RUN_COLUMNS} FROM tasklock.task_runs WHERE task_id = $1 ORDER BY attempt`, [taskId])).rows;
}
