import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { startFixture } from '../utils/fixture-process.js';
import { cleanupLocations, LOCATIONS } from '../utils/store-locations.js';

afterEach(cleanupLocations);

// The waiter and the worker are different OS processes: the end reaches the waiter only
// through the store (its change signal for ends, or the slow safety read).
for (const { name, make } of LOCATIONS) {
  describe(`waitFor with the worker in another process (${name})`, () => {
    it('resolves with the result the other process stored, and with the failure it stored', async () => {
      const db = await make();
      const queue = await Queue.open(db);
      try {
        const worker = startFixture('queue-worker.mjs', [JSON.stringify({ db, concurrency: 2 })]);
        await worker.waitForLine(/^started /);
        const ok = await queue.enqueue('job', { n: 1 });
        const bad = await queue.enqueue('job', { fail: 'no luck' }, { maxAttempts: 1 });
        const [succeeded, failed] = await Promise.all([queue.waitFor(ok.id, { timeoutMs: 20_000 }), queue.waitFor(bad.id, { timeoutMs: 20_000 })]);
        expect(succeeded).toMatchObject({ status: 'succeeded', result: { by: expect.any(Number) } });
        expect((succeeded.result as { by: number }).by).not.toBe(process.pid);
        expect(failed).toMatchObject({ status: 'failed' });
        expect(failed.lastError).toContain('no luck');
        // A second round on the same handle: the shared signal was closed and is opened again.
        const again = await queue.enqueue('job', { n: 2 });
        expect(await queue.waitFor(again.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'succeeded' });
      } finally {
        queue.close();
      }
    });
  });
}
