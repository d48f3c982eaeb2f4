/**
 * claim: pending (due) → running, up to `limit` tasks of a queue (and types), in claim order
 * (priority desc, run_at, id), each under a new lease token `<nonce>:<id>:<attempt>`, and opens
 * their runs. FOR UPDATE SKIP LOCKED: rows another transaction holds (a concurrent claim, a
 * finish) are passed over, never waited for. Zero rows: nothing is due.
 */
import { randomBytes } from 'node:crypto';
import type { TaskRow } from '../../rows.js';
import type { ClaimInput } from '../../store.js';
import { type Client, NOW, typesIn } from './fragments.js';
import { openRuns } from './runs.js';

/**
 * $1 queue, $2 types (text[], NULL: any), $3 limit, $4 the claim's nonce, $5 lease ms, $6 the
 * worker: the claimed rows, in no particular order.
 */
export const CLAIM_SQL = `
  WITH n AS (SELECT ${NOW} AS ms),
       picked AS (
         SELECT id FROM tasklock.tasks, n
         WHERE status = 'pending' AND queue = $1 AND run_at <= n.ms AND ${typesIn(2)}
         ORDER BY priority DESC, run_at, id
         LIMIT $3
         FOR UPDATE OF tasks SKIP LOCKED)
  UPDATE tasklock.tasks t
  SET status = 'running', attempts = t.attempts + 1, lease_token = $4 || ':' || t.id || ':' || (t.attempts + 1),
      lease_expires_at = n.ms + $5, locked_by = $6, updated_at = n.ms
  FROM picked, n WHERE t.id = picked.id
  RETURNING t.*`;

export async function claimTasks(client: Client, input: ClaimInput): Promise<TaskRow[]> {
  const nonce = randomBytes(6).toString('hex');
  const { rows } = await client.query<TaskRow>(CLAIM_SQL, [input.queue, input.types, input.limit, nonce, input.leaseMs, input.workerId]);
  // UPDATE … RETURNING answers in no particular order.
  rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
  if (rows.length > 0) await openRuns(client, rows, input.workerId, rows[0]!.updated_at);
  return rows;
}
