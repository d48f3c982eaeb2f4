/**
 * Schema version 9: durable counters a handler keeps with ctx.count(name, delta) (tokens, say).
 * One row per task and name, summed by the writes that carry deltas (an attempt's heartbeat or
 * progress write, and its outcome): per-type totals are a query over these rows joined to tasks.
 * Whole numbers only, so that sums are exact. Purging a task deletes its counters (cascade).
 */
export const sql = `
CREATE TABLE task_counters (
  task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  name    TEXT    NOT NULL,
  value   INTEGER NOT NULL,
  PRIMARY KEY (task_id, name)
) WITHOUT ROWID;
`;
