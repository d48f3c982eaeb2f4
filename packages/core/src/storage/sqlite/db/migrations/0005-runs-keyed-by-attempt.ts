/**
 * Schema version 5: a run is found by what names it, (task_id, attempt). task_runs was a rowid
 * table with a UNIQUE (task_id, attempt) index beside it, so every claim wrote two b-trees per
 * run and every close looked the run up in the index and then in the table. As a WITHOUT ROWID
 * table keyed by (task_id, attempt) it is one b-tree: 1.18× on the claim + complete SQL alone
 * (raw SQL, K=32, one process). Nothing referenced the run's own id; the rows are copied whole otherwise.
 * The view task_event_log reads task_runs by name, so it is dropped with it and made again.
 */
export const sql = `
DROP VIEW task_event_log;
CREATE TABLE task_runs_v5 (
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
  PRIMARY KEY (task_id, attempt)
) STRICT, WITHOUT ROWID;
INSERT INTO task_runs_v5 (task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error,
                          handler_pgid, handler_start, handler_host)
  SELECT task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error,
         handler_pgid, handler_start, handler_host
  FROM task_runs;
DROP TABLE task_runs;
ALTER TABLE task_runs_v5 RENAME TO task_runs;

CREATE VIEW task_event_log AS
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, 1 AS rank
  FROM task_events
  UNION ALL
  SELECT NULL, task_id, started_at, 'claim', 'pending', 'running', attempt, worker_id, NULL, 0
  FROM task_runs;
`;
