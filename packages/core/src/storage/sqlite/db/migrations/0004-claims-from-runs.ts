/**
 * Schema version 4: a claim is written once. Its run row (task_runs: attempt, worker, lease
 * token, started_at) already says everything its event row said, so claims stop writing an event
 * and the event log is read through the view `task_event_log`: the stored events, and a claim
 * event for each run, at the run's start. Claim event rows written before this version are
 * deleted, so that no claim is in the log twice.
 *
 * Order within a task: by attempt (a claim starts attempt n; everything after it, up to the
 * next claim, carries n), then the claim before the stored events of its attempt (`rank`), then
 * the stored events by id (commit order).
 */
export const sql = `
DELETE FROM task_events WHERE transition = 'claim';

CREATE VIEW task_event_log AS
  SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail, 1 AS rank
  FROM task_events
  UNION ALL
  SELECT NULL, task_id, started_at, 'claim', 'pending', 'running', attempt, worker_id, NULL, 0
  FROM task_runs;
`;
