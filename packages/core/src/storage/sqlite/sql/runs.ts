/**
 * task_runs: one row per attempt, opened by claim (outcome 'running') and closed by the
 * transition that ends the attempt, in the same transaction. (task_id, attempt) is unique, so
 * attempts = number of runs always holds. A run may record the process group its handler runs
 * in (fenced like any write about a running attempt): the reclaim sweep on that host kills the
 * group before the task can start again.
 */
import type Database from 'better-sqlite3';
import type { HandlerProcess, RunOutcome, TaskRunRow } from '../../rows.js';

export function prepareRuns(db: Database.Database) {
  const open = db.prepare<{ taskId: number; attempt: number; workerId: string; token: string; now: number }>(
    `INSERT INTO task_runs (task_id, attempt, worker_id, lease_token, started_at, outcome)
     VALUES (@taskId, @attempt, @workerId, @token, @now, 'running')`,
  );
  const close = db.prepare<{ taskId: number; attempt: number; now: number; outcome: RunOutcome; error: string | null }>(
    `UPDATE task_runs SET finished_at = @now, outcome = @outcome, error = @error
     WHERE task_id = @taskId AND attempt = @attempt AND outcome = 'running'`,
  );
  // Fenced by the lease: only the attempt that holds the task records its group, and only once.
  const recordHandler = db.prepare<{ taskId: number; token: string; pgid: number; start: string; host: string }>(
    `UPDATE task_runs SET handler_pgid = @pgid, handler_start = @start, handler_host = @host
     WHERE task_id = @taskId AND outcome = 'running' AND handler_pgid IS NULL
       AND attempt = (SELECT attempts FROM tasks WHERE id = @taskId AND status = 'running' AND lease_token = @token)`,
  );
  const forTask = db.prepare<[number], TaskRunRow>('SELECT * FROM task_runs WHERE task_id = ? ORDER BY attempt');
  return {
    open(taskId: number, attempt: number, workerId: string, token: string, now: number): void {
      open.run({ taskId, attempt, workerId, token, now });
    },
    close(taskId: number, attempt: number, now: number, outcome: RunOutcome, error: string | null = null): void {
      close.run({ taskId, attempt, now, outcome, error });
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
