// Section 2, throughput matrix: tasklock end to end for lock strategy × workers × claim batch,
// plus 4 workers / os / batch 32 at synchronous=FULL. Repetitions are interleaved (every cell
// once, then again) so that a burst of outside load does not land on one cell only.
import { tasklockFleet } from '../fleet.mjs';
import { median, sum } from '../stats.mjs';

export function throughputCells(sizes) {
  const cells = [];
  for (const strategy of ['os', 'lockfile', 'none']) {
    for (const workers of [1, 4]) {
      for (const batch of [1, 32]) cells.push({ strategy, workers, batch, synchronous: 'NORMAL', n: sizes.throughputN[strategy][batch] });
    }
  }
  cells.push({ strategy: 'os', workers: 4, batch: 32, synchronous: 'FULL', n: sizes.throughputN.os[32] });
  return cells;
}

export function cellKey({ strategy, workers, batch, synchronous }) {
  return `${strategy}/W${workers}/B${batch}/${synchronous}`;
}

export async function runThroughput({ sizes, log }) {
  const cells = throughputCells(sizes);
  const runs = new Map(cells.map((cell) => [cellKey(cell), []]));
  for (let rep = 0; rep < sizes.throughputReps; rep += 1) {
    for (const cell of cells) {
      const run = await tasklockFleet(cell);
      runs.get(cellKey(cell)).push(run);
      log(`throughput: ${cellKey(cell)} n=${cell.n}: ${Math.round(run.tasksPerS)} tasks/s, lock wait p99 ${run.lockWaitP99Ms.toFixed(1)} ms, BUSY retries ${run.busyRetries}`);
    }
  }
  return { cells: cells.map((cell) => summarize(cell, runs.get(cellKey(cell)))) };
}

/**
 * Throughput is the median over repetitions; fairness and lock wait are the worst repetition
 * (the targets are bounds); BUSY retries, failures and unfinished tasks are totals.
 */
function summarize(cell, runs) {
  return {
    ...cell,
    key: cellKey(cell),
    reps: runs.length,
    tasksPerS: median(runs.map((r) => r.tasksPerS)),
    tasksPerSAll: runs.map((r) => r.tasksPerS),
    fairnessPct: Math.max(...runs.map((r) => r.fairnessPct)),
    shares: runs.map((r) => r.shares),
    lockWaitP99Ms: Math.max(...runs.map((r) => r.lockWaitP99Ms)),
    lockWaitMaxMs: Math.max(...runs.map((r) => r.lockWaitMaxMs)),
    lockHoldP99Ms: Math.max(...runs.map((r) => r.lockHoldP99Ms)),
    busyRetries: sum(runs.map((r) => r.busyRetries)),
    failures: sum(runs.map((r) => r.failures)),
    lockTimeouts: sum(runs.map((r) => r.lockTimeouts)),
    persistFailures: sum(runs.map((r) => r.persistFailures)),
    notSucceeded: sum(runs.map((r) => r.notSucceeded)),
  };
}
