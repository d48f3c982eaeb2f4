/**
 * A busy worker's write: the ends of its finished attempts, then its next tasks. On the hot path
 * — completions only, each task named once — both go as one statement, FINISH_AND_CLAIM_SQL, sent
 * on its own (pgWriteOne: no BEGIN/COMMIT round trips): it locks the batch's tasks whose fence
 * holds and writes only if that is every one of them, so that it either answers 'succeeded' for
 * all, or writes nothing and the caller runs the general path in a transaction (finish, then
 * claim), where each refusal is read in the transaction that refused it. The completed tasks
 * become terminal, so the claim could not have taken any of them had it run after; both are
 * stamped with the statement's one now.
 */
import type { TaskRow } from '../../rows.js';
import type { ClaimInput, FinishInput } from '../../store.js';
import type { OneStatement } from '../pg-write.js';
import { claimCtes, claimParams, inClaimOrder } from './claim.js';
import { completeCtes, completionParams, completionsOf } from './finish.js';
import { notifyEndIfAwaited, NOW, prepared } from './fragments.js';

const WHOLE = '(SELECT ok FROM whole)';

/** completeCtes' $1–$4, then claimCtes' from $5; writes only if every task's fence holds (`ok`). */
export const FINISH_AND_CLAIM_SQL = `
  WITH n AS (SELECT ${NOW} AS ms),
       held AS (
         SELECT t.id FROM tasklock.tasks t JOIN unnest($1::bigint[], $2::text[]) AS f (id, token) ON t.id = f.id
         WHERE t.status = 'running' AND t.lease_token = f.token
         ORDER BY t.id FOR UPDATE OF t),
       whole AS (SELECT count(*) = cardinality($1::bigint[]) AS ok FROM held),${completeCtes(WHOLE)},${claimCtes(5, WHOLE)}
  SELECT ${WHOLE} AS ok, (SELECT count(*)::int FROM done) AS completed, (SELECT coalesce(json_agg(claimed), '[]') FROM claimed) AS claimed,
         ${notifyEndIfAwaited('unawaited')} AS notified`;

const finishAndClaim = prepared('finish_and_claim', FINISH_AND_CLAIM_SQL);

/** Whether `outcomes` may take the one-statement path: completions only, each task once. */
export function allCompletions(outcomes: readonly FinishInput[]): boolean {
  return outcomes.every((outcome) => outcome.kind === 'complete') && completionsOf(outcomes).length === outcomes.length;
}

/** The tasks claimed, every outcome having succeeded; null: a fence did not hold, and nothing was written. */
export async function completeAllAndClaim(db: OneStatement, outcomes: readonly FinishInput[], next: ClaimInput): Promise<TaskRow[] | null> {
  const { rows } = await db.query<{ ok: boolean; completed: number; claimed: TaskRow[] }>(
    finishAndClaim([...completionParams(completionsOf(outcomes)), ...claimParams(next)]),
  );
  const { ok, completed, claimed } = rows[0]!;
  if (!ok) return null;
  // Every fenced row was locked before the update: it cannot have missed one.
  if (completed !== outcomes.length) throw new Error(`finish and claim: ${completed} of ${outcomes.length} locked tasks completed`);
  return inClaimOrder(claimed);
}
