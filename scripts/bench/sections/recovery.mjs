// Section 8, recovery: a worker holding TASKS running tasks (handlers that never finish) is
// SIGKILLed while a second worker on the same host is up and idle; measured: ms from the kill
// until each of those tasks has started again on the survivor. The survivor notices the dead
// owner (pid + process start time) in its reclaim sweep, so the figure should be about one
// sweep period, not the lease; the lease is the reference (what expiry alone would take). The
// kill comes right after the survivor logs "started", i.e. just after its start-up sweep and
// as its periodic sweeps begin: the worst phase, a whole period before the next sweep.
import { join } from 'node:path';
import { Child, makeTempDir, removeTempDir, runChild } from '../proc.mjs';
import { median } from '../stats.mjs';

const TASKS = 8;
// The Worker defaults, given explicitly so that the report names what the workers ran with.
const LEASE_MS = 30_000;
const SWEEP_MS = 500;

export async function runRecovery({ sizes, log }) {
  const runs = [];
  for (let rep = 0; rep < sizes.recoveryReps; rep += 1) {
    const dir = makeTempDir('recovery');
    const children = [];
    try {
      const db = join(dir, 'queue.db');
      await runChild('db-tool.mjs', { mode: 'prepare', db, lock: 'os', synchronous: 'NORMAL', n: TASKS, chunk: TASKS });
      const common = { db, lock: 'os', synchronous: 'NORMAL', concurrency: TASKS, untilEmpty: false, leaseMs: LEASE_MS, reclaimEveryMs: SWEEP_MS, announce: true };
      const doomed = new Child('tasklock-worker.mjs', { ...common, hang: true }, { name: 'worker to be killed' });
      children.push(doomed);
      await doomed.next('ready');
      doomed.send('go');
      for (let i = 0; i < TASKS; i += 1) await doomed.next('task-started', 30_000);

      // The survivor starts only once every task is held, so it cannot take any of them first.
      const survivor = new Child('tasklock-worker.mjs', common, { name: 'surviving worker' });
      children.push(survivor);
      await survivor.next('ready');
      survivor.send('go');
      await survivor.next('worker-started', 30_000);

      const killedAt = Date.now();
      doomed.kill('SIGKILL');
      const restartMs = [];
      for (let i = 0; i < TASKS; i += 1) restartMs.push((await survivor.next('task-started', LEASE_MS * 2)).at - killedAt);
      survivor.send('stop');
      await survivor.next('result', 30_000);
      await survivor.done(30_000);
      runs.push({ firstMs: Math.min(...restartMs), lastMs: Math.max(...restartMs) });
      log(`recovery: all ${TASKS} tasks running again ${Math.max(...restartMs)} ms after the SIGKILL`);
    } finally {
      for (const child of children) child.kill();
      removeTempDir(dir);
    }
  }
  const last = runs.map((r) => r.lastMs);
  return { tasks: TASKS, leaseMs: LEASE_MS, sweepMs: SWEEP_MS, runs, medianLastMs: median(last), maxLastMs: Math.max(...last) };
}
