/**
 * Schema version 6: a move the task or run row already records is not written again as an event.
 * A task row holds its enqueue (created_at; from nothing to pending, attempt 0), and a run row
 * closed by complete, fail or release holds what that transition's event row held (when,
 * outcome, attempt, worker, the error). Those moves stop writing events and task_event_log
 * derives them, as schema 4 did for claims. What the rows did not hold is added:
 *
 *  - `finished_by`: who wrote the end when it was not the run's own worker (a caller with the
 *    lease token may finish under another name, e.g. `api`); NULL in the usual case, so the
 *    derived event's worker is coalesce(finished_by, worker_id). Filled from the stored events
 *    before they are deleted.
 *  - `finish_counts`: ends per epoch second, task type and outcome, kept up to date in the same
 *    transaction as the ends (one upsert per batch). The live view read its finished-per-second
 *    and failure figures from the end events by rowid; it reads them here now, a bounded read
 *    whatever the size of the log. Rows older than an hour are pruned by the writers.
 *
 * A derived enqueue is at attempt 0, rank 0. A derived end's event: complete running → succeeded; fail running → failed (outcome failed)
 * or pending (retry), with the first line of the run's error as detail; release running →
 * pending. Order within a task: by attempt; in an attempt the claim (rank 0), then its end
 * (rank 1), then the stored events (rank 2: reclaim, cancel, operator retry), by id. Nothing
 * is stored during an attempt before its end, so this is commit order.
 */
export const sql = `
ALTER TABLE task_runs ADD COLUMN finished_by TEXT;
UPDATE task_runs SET finished_by = e.worker_id
  FROM task_events AS e
  WHERE e.task_id = task_runs.task_id AND e.attempt = task_runs.attempt
    AND e.transition IN ('complete', 'fail', 'release') AND e.worker_id IS NOT task_runs.worker_id;
DELETE FROM task_events WHERE transition IN ('enqueue', 'complete', 'fail', 'release');

CREATE TABLE finish_counts (
  second  INTEGER NOT NULL,
  type    TEXT    NOT NULL,
  outcome TEXT    NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'retry', 'released')),
  count   INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (second, type, outcome)
) STRICT, WITHOUT ROWID;

DROP VIEW task_event_log;
CREATE VIEW task_event_log AS
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, 2 AS rank
  FROM task_events
  UNION ALL
  SELECT NULL, id, created_at, 'enqueue', NULL, 'pending', 0, NULL, NULL, 0
  FROM tasks
  UNION ALL
  SELECT NULL, task_id, started_at, 'claim', 'pending', 'running', attempt, worker_id, NULL, 0
  FROM task_runs
  UNION ALL
  SELECT NULL, task_id, finished_at,
         CASE outcome WHEN 'succeeded' THEN 'complete' WHEN 'released' THEN 'release' ELSE 'fail' END,
         'running',
         CASE outcome WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
         attempt, coalesce(finished_by, worker_id),
         CASE outcome
           WHEN 'succeeded' THEN NULL
           WHEN 'released' THEN 'worker shut down before the task finished'
           ELSE rtrim(substr(error, 1, instr(error || char(10), char(10)) - 1), ' ' || char(9) || char(11) || char(12) || char(13))
         END,
         1
  FROM task_runs WHERE outcome IN ('succeeded', 'failed', 'retry', 'released');
`;
