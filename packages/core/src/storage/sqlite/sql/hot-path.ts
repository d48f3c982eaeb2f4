/**
 * The statements a busy queue runs, by name: insert a task (enqueue); claim a batch and open its
 * runs; complete a batch, close its runs and count the ends. Exported so that the benchmark's
 * baselines prepare exactly these strings, with none of the store's code around them.
 */
import { CLAIM_SQL } from './claim.js';
import { INSERT_TASK_SQL } from './enqueue.js';
import { COUNT_FINISHES_SQL } from './finish-counts.js';
import { COMPLETE_MANY_SQL } from './finish.js';
import { CLOSE_RUNS_SQL, OPEN_RUNS_SQL } from './runs.js';

export const HOT_PATH_SQL = Object.freeze({
  insertTask: INSERT_TASK_SQL,
  claim: CLAIM_SQL,
  openRuns: OPEN_RUNS_SQL,
  completeMany: COMPLETE_MANY_SQL,
  closeRuns: CLOSE_RUNS_SQL,
  countFinishes: COUNT_FINISHES_SQL,
});
