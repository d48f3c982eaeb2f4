/**
 * A busy worker's write: the ends of its finished attempts, then its next tasks, in one
 * transaction. When every outcome is a completion (the hot path) both go as one statement
 * (FINISH_AND_CLAIM_SQL): the completed tasks become terminal, so the claim could not have taken
 * any of them had it run after, and both are stamped with the statement's one now. Otherwise
 * (a fail or a release may hand a task back that this very claim may take) the finish runs
 * first, then the claim.
 */
import type { TasklockError } from '../../../errors.js';
import type { TaskStatus } from '../../../task-state.js';
import type { TaskRow } from '../../rows.js';
import type { ClaimInput, FinishInput } from '../../store.js';
import { claimCtes, claimParams, claimTasks, inClaimOrder } from './claim.js';
import { COMPLETE_CTES, completionParams, completionsOf, finishTasks, settle } from './finish.js';
import { type Client, NOW, prepared } from './fragments.js';

/** COMPLETE_CTES' $1–$4, then claimCtes' from $5: the ids completed and the tasks claimed (one row). */
export const FINISH_AND_CLAIM_SQL = `
  WITH n AS (SELECT ${NOW} AS ms),${COMPLETE_CTES},${claimCtes(5)}
  SELECT (SELECT coalesce(array_agg(id), '{}') FROM done) AS completed,
         (SELECT coalesce(json_agg(claimed), '[]') FROM claimed) AS claimed`;

const finishAndClaim = prepared('finish_and_claim', FINISH_AND_CLAIM_SQL);

export async function finishAndClaimTasks(
  client: Client,
  outcomes: readonly FinishInput[],
  next: ClaimInput,
): Promise<{ statuses: (TaskStatus | TasklockError)[]; claimed: TaskRow[] }> {
  if (outcomes.some((outcome) => outcome.kind !== 'complete')) {
    const statuses = await finishTasks(client, outcomes);
    return { statuses, claimed: await claimTasks(client, next) };
  }
  const { rows } = await client.query<{ completed: number[]; claimed: TaskRow[] }>(
    finishAndClaim([...completionParams(completionsOf(outcomes)), ...claimParams(next)]),
  );
  const { completed, claimed } = rows[0]!;
  return { statuses: await settle(client, outcomes, new Set(completed.map(Number)), null), claimed: inClaimOrder(claimed) };
}
