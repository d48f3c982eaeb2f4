/**
 * claim: pending (run_at ≤ now) → running, up to `limit` tasks in one statement.
 * The subquery walks tasks_claimable (queue, priority DESC, run_at, id) WHERE status = 'pending'
 * in claim order, so it needs no sort; `status = 'pending'` is repeated in the outer WHERE so
 * the write stays conditional. Each claimed task gets a fresh lease token
 * (`<claim nonce>:<id>:<attempt>`, unique per attempt), its attempts counter incremented and a
 * task_runs row, which is also its claim event (schema 4: task_event_log derives it). Zero rows
 * means nothing is claimable now, not an error.
 */
import type Database from 'better-sqlite3';
import { TYPE_IN_TYPES } from './fragments.js';
import type { TaskRow } from '../../rows.js';
import type { RunStatements } from './runs.js';

export interface ClaimParams {
  workerId: string;
  queue: string;
  /** JSON array of task types, or null for every type. */
  types: string | null;
  limit: number;
  leaseMs: number;
  nonce: string;
  now: number;
}

export const CLAIM_CANDIDATES_SQL = `
  SELECT id FROM tasks
  WHERE status = 'pending' AND queue = @queue AND run_at <= @now
    AND ${TYPE_IN_TYPES}
  ORDER BY priority DESC, run_at, id
  LIMIT @limit`;

/** The claim itself: the candidates, leased in one UPDATE. */
export const CLAIM_SQL = `
  UPDATE tasks
  SET status = 'running',
      attempts = attempts + 1,
      lease_token = @nonce || ':' || id || ':' || (attempts + 1),
      lease_expires_at = @now + @leaseMs,
      locked_by = @workerId,
      updated_at = @now
  WHERE status = 'pending' AND id IN (${CLAIM_CANDIDATES_SQL})
  RETURNING *`;

export function prepareClaim(db: Database.Database, runs: RunStatements) {
  const claim = db.prepare<ClaimParams, TaskRow>(CLAIM_SQL);
  return (input: ClaimParams): TaskRow[] => {
    const rows = claim.all(input);
    rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
    // The run row is the claim's only record: its event is derived from it (task_event_log).
    runs.open(rows, input.workerId, input.now);
    return rows;
  };
}
