/**
 * The statements a busy queue runs, by name, one statement each: insert a batch of tasks; claim
 * a batch (opening its runs); complete a batch (closing its runs, counting its ends); complete
 * and claim at once; count other ends. Exported so that the benchmark's baselines and the
 * store's tests run exactly these strings.
 */
import { CLAIM_SQL } from './claim.js';
import { INSERT_TASKS_SQL } from './enqueue.js';
import { COUNT_FINISHES_SQL } from './finish-counts.js';
import { COMPLETE_MANY_SQL } from './finish.js';
import { FINISH_AND_CLAIM_SQL } from './finish-and-claim.js';

export const PG_HOT_PATH_SQL = Object.freeze({
  insertTasks: INSERT_TASKS_SQL,
  claim: CLAIM_SQL,
  completeMany: COMPLETE_MANY_SQL,
  countFinishes: COUNT_FINISHES_SQL,
  finishAndClaim: FINISH_AND_CLAIM_SQL,
});
