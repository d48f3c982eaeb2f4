// Section 5, bulk enqueue: enqueueMany of n tasks in one transaction vs raw INSERTs of the same
// rows in one transaction (children/bulk.mjs). synchronous=FULL, the default.
import { makeTempDir, removeTempDir, runChild } from '../proc.mjs';
import { median } from '../stats.mjs';

export async function runBulk({ sizes, log }) {
  const dir = makeTempDir('bulk');
  try {
    const { ms } = await runChild('bulk.mjs', { dir, n: sizes.bulkN, reps: sizes.bulkReps, synchronous: 'FULL' });
    const rate = (list) => sizes.bulkN / (median(list) / 1000);
    const result = {
      n: sizes.bulkN,
      reps: sizes.bulkReps,
      ms,
      tasklockPerS: rate(ms.tasklock),
      rawTasksPerS: rate(ms.rawTasks),
    };
    log(`bulk: enqueueMany ${Math.round(result.tasklockPerS)} tasks/s; raw INSERT ${Math.round(result.rawTasksPerS)}/s`);
    return result;
  } finally {
    removeTempDir(dir);
  }
}
