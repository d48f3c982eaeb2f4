/**
 * Schema version 3: one name for one idea, in stored values too.
 *
 *  - Taking back a task nobody runs is `reclaim` everywhere: the event's transition (was
 *    `expire`) and the run's outcome `reclaimed` (was `lease-lost`). task_runs lists its outcomes
 *    in a CHECK, which SQLite cannot alter, so the table is rebuilt with every row and id kept.
 *    (Nothing references task_runs; its only index is the (task_id, attempt) UNIQUE, rebuilt too.)
 *  - The OS lock strategy is `os` (was `flock`: on Linux it is an open-file-description fcntl
 *    lock, not flock(2)); the strategy the database was set up with is renamed in meta.
 */
export const sql = `
CREATE TABLE task_runs_v3 (
  id            INTEGER PRIMARY KEY,
  task_id       INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt       INTEGER NOT NULL,
  worker_id     TEXT    NOT NULL,
  lease_token   TEXT    NOT NULL,
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  outcome       TEXT    NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'retry', 'reclaimed', 'cancelled', 'released')),
  error         TEXT,
  handler_pgid  INTEGER,
  handler_start TEXT,
  handler_host  TEXT,
  UNIQUE (task_id, attempt)
) STRICT;
INSERT INTO task_runs_v3 (id, task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error,
                          handler_pgid, handler_start, handler_host)
  SELECT id, task_id, attempt, worker_id, lease_token, started_at, finished_at,
         CASE outcome WHEN 'lease-lost' THEN 'reclaimed' ELSE outcome END, error,
         handler_pgid, handler_start, handler_host
  FROM task_runs;
DROP TABLE task_runs;
ALTER TABLE task_runs_v3 RENAME TO task_runs;

UPDATE task_events SET transition = 'reclaim' WHERE transition = 'expire';

UPDATE meta SET value = 'os' WHERE key = 'lock_strategy' AND value = 'flock';
`;
