/**
 * Schema version 1. Times are integer milliseconds since the epoch (UTC); JSON columns hold
 * text written by JSON.stringify. The status list repeats task-state.ts as a CHECK so that no
 * write, from any version of the code, can store a status the state machine does not know.
 */
export const sql = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE tasks (
  id               INTEGER PRIMARY KEY,
  type             TEXT    NOT NULL,
  queue            TEXT    NOT NULL DEFAULT 'default',
  status           TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  priority         INTEGER NOT NULL DEFAULT 0,
  payload          TEXT    NOT NULL,
  result           TEXT,
  last_error       TEXT,
  progress         TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
  backoff          TEXT    NOT NULL,
  unique_key       TEXT,
  timeout_ms       INTEGER,
  run_at           INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  lease_token      TEXT,
  lease_expires_at INTEGER,
  locked_by        TEXT,
  CHECK ((status = 'running') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL AND locked_by IS NOT NULL))
) STRICT;

-- Claim: equality on queue, then the claim order, so the scan needs no sort.
CREATE INDEX tasks_claimable ON tasks (queue, priority DESC, run_at, id) WHERE status = 'pending';
-- Lease expiry sweep; also serves the per-worker heartbeat and dead-owner reclaim, which scan
-- the running set (at most the workers' total concurrency) rather than keep a third index
-- up to date on every claim and finish.
CREATE INDEX tasks_running_by_lease ON tasks (lease_expires_at) WHERE status = 'running';
-- Idempotent enqueue among live tasks; a finished task frees its key.
CREATE UNIQUE INDEX tasks_unique_live_key ON tasks (unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
-- No index for purge by age: it is a rare admin scan, and an index would cost every finish.

CREATE TABLE task_runs (
  id           INTEGER PRIMARY KEY,
  task_id      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt      INTEGER NOT NULL,
  worker_id    TEXT    NOT NULL,
  lease_token  TEXT    NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'retry', 'lease-lost', 'cancelled', 'released')),
  error        TEXT,
  UNIQUE (task_id, attempt)
) STRICT;

CREATE TABLE task_events (
  id           INTEGER PRIMARY KEY,
  task_id      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  transition   TEXT    NOT NULL,
  from_status  TEXT,
  to_status    TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  worker_id    TEXT,
  detail       TEXT
) STRICT;
CREATE INDEX task_events_by_task ON task_events (task_id, id);

CREATE TABLE workers (
  id             TEXT    PRIMARY KEY,
  pid            INTEGER NOT NULL,
  host           TEXT    NOT NULL,
  process_start  TEXT    NOT NULL,
  queue          TEXT    NOT NULL,
  types          TEXT,
  started_at     INTEGER NOT NULL,
  last_seen      INTEGER NOT NULL,
  stopped_at     INTEGER
) STRICT;
`;
