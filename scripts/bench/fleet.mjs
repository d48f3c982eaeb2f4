// One end-to-end tasklock run: n noop tasks pre-enqueued, W worker processes that open the queue,
// say "ready", and all start on one "go"; wall time is go → the last worker exited.
import { join } from 'node:path';
import { Child, makeTempDir, removeTempDir, runChild } from './proc.mjs';
import { maxDeviationPct, sum } from './stats.mjs';

/** `idLogs`: one file per worker, each handler appends its task id there (the peers' workload). */
/** `listenAll`: each worker attaches a listener to every worker event (the events section's cost). */
export async function tasklockFleet({ strategy, workers, batch, n, synchronous = 'NORMAL', concurrency = 64, idLogs = null, listenAll = false }) {
  const dir = makeTempDir(`fleet-${strategy}`);
  const db = join(dir, 'queue.db');
  const children = [];
  try {
    const { ids } = await runChild('db-tool.mjs', { mode: 'prepare', db, lock: strategy, synchronous, n, chunk: 10_000, returnIds: idLogs !== null });
    for (let i = 0; i < workers; i += 1) {
      children.push(
        new Child('tasklock-worker.mjs', { db, lock: strategy, synchronous, concurrency, batch, untilEmpty: true, idLog: idLogs?.[i], listenAll }, {
          name: `tasklock worker ${i + 1}`,
        }),
      );
    }
    await Promise.all(children.map((child) => child.next('ready', 60_000)));
    const go = performance.now();
    for (const child of children) child.send('go');
    const results = await Promise.all(children.map((child) => child.next('result', 600_000)));
    await Promise.all(children.map((child) => child.done()));
    const wallMs = Math.max(...children.map((child) => child.exitInfo.at)) - go;
    const { counts } = await runChild('db-tool.mjs', { mode: 'verify', db, lock: strategy, synchronous });
    const shares = results.map((r) => r.stats.succeeded);
    return {
      strategy, workers, batch, n, synchronous, concurrency,
      wallMs,
      tasksPerS: n / (wallMs / 1000),
      shares,
      fairnessPct: maxDeviationPct(shares),
      lockWaitP99Ms: Math.max(...results.map((r) => r.metrics.lockWaitMs.p99)),
      lockWaitMaxMs: Math.max(...results.map((r) => r.metrics.lockWaitMs.max)),
      lockHoldP99Ms: Math.max(...results.map((r) => r.metrics.lockHoldMs.p99)),
      transactions: sum(results.map((r) => r.metrics.transactions)),
      busyRetries: sum(results.map((r) => r.metrics.busyRetries)),
      failures: sum(results.map((r) => r.metrics.failures)),
      lockTimeouts: sum(results.map((r) => r.metrics.lockTimeouts)),
      persistFailures: sum(results.map((r) => r.stats.persistFailures)),
      rejected: sum(results.map((r) => r.stats.rejected)),
      succeeded: sum(shares),
      eventsHeard: sum(results.map((r) => r.eventsHeard ?? 0)),
      notSucceeded: n - counts.succeeded,
      enqueuedIds: ids,
    };
  } finally {
    for (const child of children) child.kill();
    removeTempDir(dir);
  }
}
