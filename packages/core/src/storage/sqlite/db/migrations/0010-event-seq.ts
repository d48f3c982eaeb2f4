/**
 * Schema version 10: every event row carries the commit order of the transaction that wrote it
 * (write-seq.ts), so that the event stream (queue.events) can follow the log across processes
 * with a cursor that nothing committed later can fall behind:
 *
 *  - `write_seq`: one row, bumped once at the start of every write transaction.
 *  - `tasks.created_seq` (the enqueue), `task_runs.started_seq` (the claim) and `finished_seq`
 *    (the run's end), `task_events.seq` (stored events): the writing transaction's number.
 *  - task_event_log gains `seq`; the stream reads it in (seq, task_id, attempt, rank, id) order.
 *
 * Rows already there are numbered by their times (ms), which keeps their order; the counter
 * starts past the largest, so every later write comes after them.
 */
export const sql = `
ALTER TABLE tasks ADD COLUMN created_seq INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET created_seq = created_at;
ALTER TABLE task_runs ADD COLUMN started_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE task_runs ADD COLUMN finished_seq INTEGER;
UPDATE task_runs SET started_seq = started_at, finished_seq = finished_at;
ALTER TABLE task_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE task_events SET seq = at;

CREATE TABLE write_seq (seq INTEGER NOT NULL) STRICT;
INSERT INTO write_seq (seq) SELECT max(
  coalesce((SELECT max(created_seq) FROM tasks), 0),
  coalesce((SELECT max(max(started_seq), coalesce(max(finished_seq), 0)) FROM task_runs), 0),
  coalesce((SELECT max(seq) FROM task_events), 0));

CREATE INDEX tasks_created_seq ON tasks (created_seq);
CREATE INDEX task_runs_started_seq ON task_runs (started_seq);
CREATE INDEX task_runs_finished_seq ON task_runs (finished_seq) WHERE finished_seq IS NOT NULL;
CREATE INDEX task_events_seq ON task_events (seq);

DROP VIEW task_event_log;
CREATE VIEW task_event_log AS
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, 2 AS rank, seq
  FROM task_events
  UNION ALL
  SELECT NULL, id, created_at, 'enqueue', NULL, 'pending', 0, NULL, NULL, 0, created_seq
  FROM tasks
  UNION ALL
  SELECT NULL, task_id, started_at, 'claim', 'pending', 'running', attempt, worker_id, NULL, 0, started_seq
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
         1, finished_seq
  FROM task_runs WHERE outcome IN ('succeeded', 'failed', 'retry', 'released');
`;
