/**
 * An outcome whose write failed transiently may have been stored all the same: a connection cut
 * while COMMIT was on its way leaves the commit's fate unknown to the client. The worker then
 * sends it again, and the fence (status + lease token) refuses the second write if the first one
 * took. That refusal is not a lost lease: the attempt's run, found by its lease token, says
 * whether this very outcome ended it. Read once, after the refusal, so that the usual path costs
 * nothing.
 */
import type { Outcome, Queue } from './queue.js';
import type { TaskStatus } from './task-state.js';

/** The status the outcome's earlier commit gave the task, or null: the refusal stands (someone else ended the attempt). */
export async function storedEarlier(queue: Queue, outcome: Outcome): Promise<TaskStatus | null> {
  const run = (await queue.runs(outcome.lease.id)).find((r) => r.lease_token === outcome.lease.leaseToken);
  // finished_by is null when the run's own worker ended it; an operator's or a sweep's end names them.
  if (run === undefined || run.finished_by !== null) return null;
  switch (outcome.kind) {
    case 'complete':
      return run.outcome === 'succeeded' ? 'succeeded' : null;
    case 'release':
      return run.outcome === 'released' ? 'pending' : null;
    case 'fail':
      return run.outcome === 'failed' ? 'failed' : run.outcome === 'retry' ? 'pending' : null;
  }
}
