/**
 * claim: pending (due) → running, up to `limit` tasks of a queue (and types), in claim order
 * (priority desc, run_at, id), each under a new lease token `<nonce>:<id>:<attempt>`, and opens
 * their runs, in one statement. FOR UPDATE SKIP LOCKED: rows another transaction holds (a
 * concurrent claim, a finish) are passed over, never waited for. Zero rows: nothing is due.
 */
import { randomBytes } from 'node:crypto';
import type { TaskRow } from '../../rows.js';
import type { ClaimInput } from '../../store.js';
import type { OneStatement } from '../pg-write.js';
import { NOW, prepared, typesIn } from './fragments.js';

/**
 * The claim as CTEs after `n` (the transaction's now), its parameters from $first: queue, types
 * (text[], NULL: any), limit, the claim's nonce, lease ms, worker; `gate`: a further condition
 * of the whole claim (SQL, true: none). `claimed` holds the tasks taken (in no particular order);
 * `opened` opens their runs.
 */
export function claimCtes(first: number, gate: string): string {
  const $ = (i: number) => `$${first + i}`;
  return `
       picked AS (
         SELECT id FROM tasklock.tasks, n
         WHERE status = 'pending' AND queue = ${$(0)} AND run_at <= n.ms AND ${typesIn(first + 1)} AND ${gate}
         ORDER BY priority DESC, run_at, id
         LIMIT ${$(2)}
         FOR UPDATE OF tasks SKIP LOCKED),
       claimed AS (
         UPDATE tasklock.tasks t
         SET status = 'running', attempts = t.attempts + 1, lease_token = ${$(3)} || ':' || t.id || ':' || (t.attempts + 1),
             lease_expires_at = n.ms + ${$(4)}, locked_by = ${$(5)}, updated_at = n.ms
         FROM picked, n WHERE t.id = picked.id
         RETURNING t.*),
       opened AS (
         INSERT INTO tasklock.task_runs (task_id, attempt, worker_id, lease_token, started_at, outcome)
         SELECT id, attempts, locked_by, lease_token, updated_at, 'running' FROM claimed)`;
}

/** claim, and open the claimed tasks' runs: one statement. */
export const CLAIM_SQL = `
  WITH n AS (SELECT ${NOW} AS ms),${claimCtes(1, 'true')}
  SELECT * FROM claimed`;

/** claimCtes' parameters, from its `first`. */
export function claimParams(input: ClaimInput): unknown[] {
  return [input.queue, input.types, input.limit, randomBytes(6).toString('hex'), input.leaseMs, input.workerId];
}

const claim = prepared('claim', CLAIM_SQL);

export async function claimTasks(db: OneStatement, input: ClaimInput): Promise<TaskRow[]> {
  return inClaimOrder((await db.query<TaskRow>(claim(claimParams(input)))).rows);
}

/** UPDATE … RETURNING answers in no particular order. */
export function inClaimOrder(rows: TaskRow[]): TaskRow[] {
  return rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
}
