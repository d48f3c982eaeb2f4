// Section 11, the cost of worker events: the 4 workers / os / batch 32 / NORMAL run, without and
// with a listener on every event, in the same run. Pairs alternate their order (A B, B A, …) so
// that load drifting over the section does not favour one side; the cost is 1 − the ratio of the
// medians.
import { tasklockFleet } from '../fleet.mjs';
import { median } from '../stats.mjs';

const CELL = { strategy: 'os', workers: 4, batch: 32, synchronous: 'NORMAL' };

export async function runEvents({ sizes, log }) {
  const n = sizes.throughputN.os[32];
  const runs = { without: [], with: [] };
  let eventsHeard = 0;
  for (let rep = 0; rep < sizes.eventsReps; rep += 1) {
    const order = rep % 2 === 0 ? [false, true] : [true, false];
    for (const listenAll of order) {
      const run = await tasklockFleet({ ...CELL, n, listenAll });
      if (run.notSucceeded > 0) throw new Error(`events: ${run.notSucceeded} of ${n} tasks not succeeded`);
      if (listenAll) eventsHeard += run.eventsHeard;
      runs[listenAll ? 'with' : 'without'].push(run.tasksPerS);
      log(`events: ${listenAll ? 'with' : 'without'} listeners n=${n}: ${Math.round(run.tasksPerS)} tasks/s${listenAll ? `, ${run.eventsHeard} events heard` : ''}`);
    }
  }
  const withoutPerS = median(runs.without);
  const withPerS = median(runs.with);
  return {
    ...CELL,
    n,
    reps: sizes.eventsReps,
    withoutPerS,
    withPerS,
    withoutAll: runs.without,
    withAll: runs.with,
    ratio: withPerS / withoutPerS,
    // claimed + completed per task, and each worker's drained: proof the listeners ran.
    eventsPerTask: eventsHeard / (n * sizes.eventsReps),
  };
}
