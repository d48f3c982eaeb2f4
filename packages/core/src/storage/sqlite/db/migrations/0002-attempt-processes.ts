/**
 * Schema version 2: what an attempt started, what a handed-back attempt costs, how a worker ended.
 *
 *  - task_runs.handler_pgid / handler_start / handler_host: the process group an attempt's handler
 *    runs in (`worker --exec`, or any handler that calls ctx.registerProcessGroup). The recovery
 *    sweep on that host kills the group and waits for it to be gone before the task may start
 *    again, so two attempts of one task never run at once on one host.
 *  - tasks.released: attempts handed back by a graceful shutdown. They stay in `attempts` (one per
 *    run, so attempts = runs still holds) but do not count against max_attempts, which keeps the
 *    value the user set. Earlier versions raised max_attempts instead; those rows keep their
 *    raised budget, and their count of handed-back runs is filled in here.
 *  - workers.crashed_at / crashed_by: a worker found dead (by whom, when) is told apart from one
 *    that stopped gracefully (stopped_at). Rows stopped or crashed before a retention are pruned.
 */
export const sql = `
ALTER TABLE task_runs ADD COLUMN handler_pgid INTEGER;
ALTER TABLE task_runs ADD COLUMN handler_start TEXT;
ALTER TABLE task_runs ADD COLUMN handler_host TEXT;

ALTER TABLE tasks ADD COLUMN released INTEGER NOT NULL DEFAULT 0 CHECK (released >= 0);
UPDATE tasks SET released = (SELECT count(*) FROM task_runs r WHERE r.task_id = tasks.id AND r.outcome = 'released')
  WHERE id IN (SELECT task_id FROM task_runs WHERE outcome = 'released');

ALTER TABLE workers ADD COLUMN crashed_at INTEGER;
ALTER TABLE workers ADD COLUMN crashed_by TEXT;
`;
