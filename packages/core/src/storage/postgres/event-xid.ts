/**
 * Version 6 (SQLite's migration 10): every event row carries the id of the transaction that wrote
 * it (xid8), for the event stream's cursor. Commit order is not xid order on a server — a
 * transaction may commit after a later one — so the stream delivers only events whose xid is
 * below the xmin of its own snapshot (every transaction below it has ended: nothing can appear
 * behind the cursor later), in (xid, task_id, attempt, rank, id) order (sql/event-log.ts).
 *
 * Inserts are stamped by the columns' DEFAULT pg_current_xact_id() (the top-level transaction's
 * id, in the statements themselves); a run's end sets finished_xid in the statement that closes
 * it. Rows already there get xid 0: before everything, in task order.
 *
 * Also `awaited`: the ids of live tasks someone waits for (queue.waitFor), so that the
 * completions' statement NOTIFYs the end channel only when one of them ended (fragments.ts
 * notifyEndIfAwaited), deleting their rows. A table of its own, without a foreign key: marking a
 * task must take no lock on its row, which a claim (FOR UPDATE SKIP LOCKED) would skip.
 */
export const eventXid = `
CREATE TABLE tasklock.awaited (task_id bigint PRIMARY KEY);
ALTER TABLE tasklock.tasks ADD COLUMN created_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE tasklock.tasks ALTER COLUMN created_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE tasklock.task_runs ADD COLUMN started_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE tasklock.task_runs ALTER COLUMN started_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE tasklock.task_runs ADD COLUMN finished_xid xid8;
UPDATE tasklock.task_runs SET finished_xid = '0' WHERE finished_at IS NOT NULL;
ALTER TABLE tasklock.task_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE tasklock.task_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

CREATE INDEX tasks_created_xid ON tasklock.tasks (created_xid);
CREATE INDEX task_runs_started_xid ON tasklock.task_runs (started_xid);
CREATE INDEX task_runs_finished_xid ON tasklock.task_runs (finished_xid) WHERE finished_xid IS NOT NULL;
CREATE INDEX task_events_xid ON tasklock.task_events (xid);

DROP VIEW tasklock.task_event_log;
CREATE VIEW tasklock.task_event_log AS
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, 2 AS rank, xid
  FROM tasklock.task_events
  UNION ALL
  SELECT NULL, id, created_at, 'enqueue', NULL, 'pending', 0, NULL, NULL, 0, created_xid
  FROM tasklock.tasks
  UNION ALL
  SELECT NULL, task_id, started_at, 'claim', 'pending', 'running', attempt, worker_id, NULL, 0, started_xid
  FROM tasklock.task_runs
  UNION ALL
  SELECT NULL, task_id, finished_at,
         CASE outcome WHEN 'succeeded' THEN 'complete' WHEN 'released' THEN 'release' ELSE 'fail' END,
         'running',
         CASE outcome WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
         attempt, coalesce(finished_by, worker_id),
         CASE outcome
           WHEN 'succeeded' THEN NULL
           WHEN 'released' THEN 'worker shut down before the task finished'
           ELSE rtrim(split_part(error, chr(10), 1), ' ' || chr(9) || chr(11) || chr(12) || chr(13))
         END,
         1, finished_xid
  FROM tasklock.task_runs WHERE outcome IN ('succeeded', 'failed', 'retry', 'released');
`;
