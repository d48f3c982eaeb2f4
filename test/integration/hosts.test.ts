/**
 * Workers on two hosts sharing one store. Each "host" is a real UTS namespace with its own
 * hostname (`unshare --uts`, root only): the worker processes really run on different hosts as
 * far as tasklock can tell, so the sweep on host B cannot ask after host A's pids and has only
 * host A's heartbeat to go by. The pid check of the worker's own host is covered by
 * worker-processes.test.ts; these are the other hosts' rules:
 *  - a worker of another host is dead once its heartbeat is older than its own bound
 *    (dead_after_ms), and not a moment before, however often that host sweeps;
 *  - a worker that was only frozen and heartbeats again is alive again, and its old attempt's
 *    completion is refused by the fence: the task succeeds once.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, type WorkerRow } from '@tasklock/core';
import { startFixture, type FixtureProcess } from '../utils/fixture-process.js';
import { cleanupProcessStores, PROCESS_STORES } from '../utils/process-stores.js';
import { until } from '../utils/until.js';
import { makeTempDir } from '../utils/temp-dir.js';

const canUnshare = (() => {
  try {
    execFileSync('unshare', ['--uts', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const BOUND_MS = 1500;
const HEARTBEAT_MS = 100;
/** Far beyond the bound: a reclaim here can only be the heartbeat bound's, never the lease's. */
const LEASE_MS = 120_000;

const stores = PROCESS_STORES;

afterEach(cleanupProcessStores);

/** A queue-worker fixture running on `host` (its own UTS namespace). */
function workerOn(host: string, options: Record<string, unknown>): FixtureProcess {
  return startFixture('queue-worker.mjs', [JSON.stringify({ leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, deadAfterMs: BOUND_MS, reclaimEveryMs: 50, concurrency: 1, ...options })], {
    prefix: ['unshare', '--uts', 'sh', '-c', `hostname ${host} && exec "$0" "$@"`],
  });
}

const workerRow = async (queue: Queue, id: string): Promise<WorkerRow> => (await queue.workers()).find((w) => w.id === id)!;

describe.skipIf(!canUnshare)('workers on two hosts (UTS namespaces)', () => {
  for (const store of stores) {
    it(`${store.name}: host B takes a dead host A worker's task only once A's heartbeat is older than its bound`, async () => {
      const db = await store.db();
      const effects = join(makeTempDir(), 'effects.log');
      const queue = await Queue.open(db);
      try {
        const task = await queue.enqueue('job', {});
        const a = workerOn('host-a', { db, effects, hold: 1, workerId: 'host-a:worker' });
        await a.waitForLine(/^holding 1/);
        const b = workerOn('host-b', { db, effects, workerId: 'host-b:worker' });
        await b.waitForLine(/^started/);

        // A alive: B sweeps every 50 ms for several bounds' worth of A's heartbeats and takes nothing.
        const firstSeen = (await workerRow(queue, 'host-a:worker')).last_seen;
        await until('host A to heartbeat for 2 bounds', async () => (await workerRow(queue, 'host-a:worker')).last_seen > firstSeen + 2 * BOUND_MS);
        expect(await queue.get(task.id)).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'host-a:worker' });

        a.kill('SIGKILL');
        await a.exited;
        const done = await until('the task to succeed on host B', async () => {
          const now = await queue.get(task.id);
          return now.status === 'succeeded' ? now : undefined;
        });
        expect(done).toMatchObject({ attempts: 2, result: expect.objectContaining({}) });
        const dead = await workerRow(queue, 'host-a:worker');
        expect(dead).toMatchObject({ host: 'host-a', dead_after_ms: BOUND_MS, crashed_by: expect.stringMatching(/^host-b:/), stopped_at: null });
        const runs = await queue.runs(task.id);
        expect(runs).toMatchObject([
          { attempt: 1, worker_id: 'host-a:worker', outcome: 'reclaimed', error: "reclaimed: worker's heartbeat is silent past its bound (worker host-a:worker, attempt 1)" },
          { attempt: 2, worker_id: 'host-b:worker', outcome: 'succeeded' },
        ]);
        // Never before the bound (the store's clock wrote both times), and by the bound, not the lease.
        expect(runs[0]!.finished_at! - dead.last_seen).toBeGreaterThan(BOUND_MS);
        expect(runs[0]!.finished_at! - dead.last_seen).toBeLessThan(LEASE_MS);
        expect(dead.crashed_at).toBe(runs[0]!.finished_at);
      } finally {
        queue.close();
      }
    });

    it(`${store.name}: a frozen host A worker past its bound loses its task to host B, and is alive again once it heartbeats`, async () => {
      const db = await store.db();
      const effects = join(makeTempDir(), 'effects.log');
      const queue = await Queue.open(db);
      try {
        const task = await queue.enqueue('job', {});
        const a = workerOn('host-a', { db, effects, hold: 1, workerId: 'host-a:frozen' });
        await a.waitForLine(/^holding 1/);
        const b = workerOn('host-b', { db, effects, workerId: 'host-b:worker' });
        await b.waitForLine(/^started/);

        a.kill('SIGSTOP');
        await until('host B to finish the task', async () => (await queue.get(task.id)).status === 'succeeded');
        const found = await workerRow(queue, 'host-a:frozen');
        expect(found.crashed_at).not.toBeNull();

        a.kill('SIGCONT');
        const revived = await until('host A to heartbeat again', async () => {
          const row = await workerRow(queue, 'host-a:frozen');
          return row.crashed_at === null && row.last_seen > found.crashed_at! ? row : undefined;
        });
        expect(revived).toMatchObject({ crashed_by: null, stopped_at: null });
        // The frozen attempt's end never lands: one success, by B.
        expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', attempts: 2, lockedBy: null });
        expect((await queue.runs(task.id)).map((r) => [r.worker_id, r.outcome])).toEqual([
          ['host-a:frozen', 'reclaimed'],
          ['host-b:worker', 'succeeded'],
        ]);
      } finally {
        queue.close();
      }
    });
  }
});
