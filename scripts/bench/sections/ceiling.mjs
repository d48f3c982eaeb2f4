// Section 3, ceiling: tasklock's claim + complete SQL in one process, raw better-sqlite3, no lock,
// no queue logic (children/ceiling.mjs), K tasks per transaction pair; "bare" keeps only the two
// task UPDATEs, "minimal" runs them on a 3-column table. synchronous=NORMAL, like the throughput
// matrix; the median of the repetitions.
import { join } from 'node:path';
import { makeTempDir, removeTempDir, runChild } from '../proc.mjs';
import { median } from '../stats.mjs';

export async function runCeiling({ sizes, log }) {
  const combos = ['full', 'bare', 'minimal'].flatMap((variant) => [1, 32].map((k) => ({ variant, k, n: sizes.ceilingN[k], rates: [] })));
  const dir = makeTempDir('ceiling');
  try {
    // Repetitions interleave the variants, as the throughput matrix does; each gets a fresh database.
    for (let rep = 0; rep < sizes.ceilingReps; rep += 1) {
      for (const combo of combos) {
        const { variant, k, n } = combo;
        const result = await runChild('ceiling.mjs', { db: join(dir, `${variant}-${k}-${rep}.db`), n, k, variant, synchronous: 'NORMAL' });
        if (result.done !== n || result.left !== 0) throw new Error(`ceiling ${variant} K=${k}: drained ${result.done} of ${n}`);
        combo.rates.push(result.tasksPerS);
        log(`ceiling: ${variant} K=${k}: ${Math.round(result.tasksPerS)} tasks/s`);
      }
    }
  } finally {
    removeTempDir(dir);
  }
  const variants = combos.map(({ variant, k, n, rates }) => ({ variant, k, n, reps: rates.length, tasksPerS: median(rates), tasksPerSAll: rates }));
  return { variants };
}

export function ceilingOf(ceiling, variant, k) {
  return ceiling?.variants.find((v) => v.variant === variant && v.k === k)?.tasksPerS ?? NaN;
}
