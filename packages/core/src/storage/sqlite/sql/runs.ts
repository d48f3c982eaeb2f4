/**
 * task_runs: one row per attempt, opened by claim (outcome 'running') and closed by the
 * transition that ends the attempt, in the same transaction. (task_id, attempt) is unique, so
 * attempts = number of runs always holds. A run may record the process group its handler runs
 * in (fenced like any write about a running attempt): the reclaim sweep on that host kills the
 * group before the task can start again.
 */
import type Database from 'better-sqlite3';
import type { HandlerProcess, RunOutcome, TaskRunRow } from '../../rows.js';
import { RUN_COLUMNS } from '../../columns.js';

/** Opens the runs of a claimed batch in one statement: @runs is a JSON array of [task id, attempt, token]. */
export const OPEN_RUNS_SQL = `
  INSERT INTO task_runs (task_id, attempt, worker_id, lease_token, started_at, outcome, started_seq)
  SELECT r.value ->> 0, r.value ->> 1, @workerId, r.value ->> 2, @now, 'running', tasklock_write_seq() FROM json_each(@runs) AS r`;

/** Who ended the run, kept only when it is not the run's own worker (schema 6). */
const FINISHED_BY = 'finished_by = CASE WHEN worker_id IS @finishedBy THEN NULL ELSE @finishedBy END';

/** Closes many runs ended the same way: @closed is a JSON array of [task id, attempt]. */
export const CLOSE_RUNS_SQL = `
  UPDATE task_runs SET finished_at = @now, finished_seq = tasklock_write_seq(), outcome = @outcome, error = NULL, ${FINISHED_BY}
  FROM json_each(@closed) AS c
  WHERE task_runs.task_id = c.value ->> 0 AND task_runs.attempt = c.value ->> 1 AND task_runs.outcome = 'running'`;

export function prepareRuns(db: Database.Database) {
  const open = db.prepare<{ runs: string; workerId: string; now: number }>(OPEN_RUNS_SQL);
  const close = db.prepare<{ taskId: number; attempt: number; now: number; outcome: RunOutcome; error: string | null; finishedBy: string | null }>(
    `UPDATE task_runs SET finished_at = @now, finished_seq = tasklock_write_seq(), outcome = @outcome, error = @error, ${FINISHED_BY}
     WHERE task_id = @taskId AND attempt = @attempt AND outcome = 'running'`,
  );
  const closeMany = db.prepare<{ closed: string; now: number; outcome: RunOutcome; finishedBy: string }>(CLOSE_RUNS_SQL);
  // Fenced by the lease: only the attempt that holds the task records its group, and only once.
  const recordHandler = db.prepare<{ taskId: number; token: string; pgid: number; start: string; host: string }>(
    `UPDATE task_runs SET handler_pgid = @pgid, handler_start = @start, handler_host = @host
     WHERE task_id = @taskId AND outcome = 'running' AND handler_pgid IS NULL
       AND attempt = (SELECT attempts FROM tasks WHERE id = @taskId AND status = 'running' AND lease_token = @token)`,
  );
  const forTask = db.prepare<[number], TaskRunRow>(`SELECT ${RUN_COLUMNS} FROM task_runs WHERE task_id = ? ORDER BY attempt`);
  return {
    /** Opens the run of each claimed task. */
    open(claimed: readonly { id: number; attempts: number; lease_token: string | null }[], workerId: string, now: number): void {
      if (claimed.length === 0) return;
      open.run({ runs: JSON.stringify(claimed.map((task) => [task.id, task.attempts, task.lease_token])), workerId, now });
    },
    /** `finishedBy`: who ended it (complete, fail, release); null when a move that stores its own event did (reclaim, cancel). */
    close(taskId: number, attempt: number, now: number, outcome: RunOutcome, error: string | null, finishedBy: string | null): void {
      close.run({ taskId, attempt, now, outcome, error, finishedBy });
    },
    /** close() for many runs ([task id, attempt] each) ended the same way, with no error. */
    closeMany(closed: readonly (readonly [number, number])[], now: number, outcome: RunOutcome, finishedBy: string): void {
      if (closed.length > 0) closeMany.run({ closed: JSON.stringify(closed), now, outcome, finishedBy });
    },
    /** false: the lease is not held, or the attempt already recorded a group (nothing written). */
    recordHandler(taskId: number, token: string, handler: HandlerProcess): boolean {
      return recordHandler.run({ taskId, token, ...handler }).changes === 1;
    },
    forTask(taskId: number): TaskRunRow[] {
      return forTask.all(taskId);
    },
  };
}

export type RunStatements = ReturnType<typeof prepareRuns>;
