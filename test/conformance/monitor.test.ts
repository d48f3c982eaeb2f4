import { describe, expect, it } from 'vitest';
import type { Queue } from '@tasklock/core';
import { finishOne as finish } from '../utils/lifecycle.js';
import { forEachStore, untilPast } from './stores.js';

forEachStore((store) => {
  describe('the live view (queue.monitor(), stats --watch)', () => {
    it('keeps counts equal to stats() while tasks move, finish, retry and are purged', async () => {
      const queue = await store.open();
      const monitor = queue.monitor({ rebaseEveryMs: 60_000 });
      await queue.enqueue('a', {});
      await queue.enqueue('b', {}, { delayMs: 3_600_000 });
      const first = await monitor.sample();
      expect(first.counts).toEqual((await queue.stats()).counts);
      expect(first.finishedPerSecond).toBeNull();

      await finish(queue, 'a', 'complete');
      await finish(queue, 'a', 'complete');
      const failed = await finish(queue, 'b', 'fail', { maxAttempts: 1 });
      await finish(queue, 'b', 'fail');
      const [lease] = await queue.claim({ workerId: 'w-2' });
      const second = await monitor.sample();
      expect(second.counts).toEqual((await queue.stats()).counts);
      expect(second.byType).toEqual((await queue.stats()).byType);
      expect(second.counts).toMatchObject({ pending: 0, scheduled: 2, running: 1, succeeded: 2, failed: 1 });
      expect(second.finished).toBe(3);
      expect(second.finishedPerSecond).toBeGreaterThan(0);
      expect(second.runningByWorker).toEqual({ 'w-2': 1 });
      expect(second.failuresLastMinute).toEqual({ attempts: 2, final: 1 });

      await queue.complete(lease!, null);
      await queue.retry(failed);
      await queue.cancel(failed);
      const third = await monitor.sample();
      expect(third.counts).toEqual((await queue.stats()).counts);
      expect(third.finished).toBe(1);
      expect(third.runningByWorker).toEqual({});

      // A purge writes no event: the next re-base (here due at every sample) recounts finished tasks.
      const rebasing = queue.monitor({ rebaseEveryMs: 0 });
      await rebasing.sample();
      expect(await queue.purge({ olderThanMs: 0 })).toBe(4);
      expect((await rebasing.sample()).counts).toEqual((await queue.stats()).counts);
    });

    it('a monitor started later finds the last minute of failures: ends counted and stored reclaims', async () => {
      const queue = await store.open();
      await finish(queue, 'x', 'fail', { maxAttempts: 1 });
      await finish(queue, 'x', 'fail');
      await finish(queue, 'x', 'complete');
      const reclaimed = await queue.enqueue('x', {}, { maxAttempts: 1 });
      const [lost] = await queue.claim({ workerId: 'w-gone', leaseMs: 100 });
      await untilPast(lost!.leaseExpiresAt, "the lost task's lease expiry");
      expect((await queue.reclaim()).leaseExpired).toBe(1);
      const sample = await queue.monitor().sample();
      expect(sample.failuresLastMinute).toEqual({ attempts: 3, final: 2 });
      expect(sample.counts).toMatchObject({ failed: 2, succeeded: 1, scheduled: 1 });
      expect((await queue.get(reclaimed.id)).status).toBe('failed');
    });

    it('counts a batch of completions by type, and ends another handle commits', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const monitor = queue.monitor({ rebaseEveryMs: 60_000 });
      await monitor.sample();
      await queue.enqueueMany([{ type: 'a', payload: 1 }, { type: 'b', payload: 2 }, { type: 'a', payload: 3 }]);
      const held = await other.claim({ workerId: 'w', limit: 3 });
      const answers = await other.finishMany(held.map((task) => ({ kind: 'complete' as const, lease: task, workerId: 'w', result: null })));
      expect(answers).toEqual(['succeeded', 'succeeded', 'succeeded']);
      const sample = await monitor.sample();
      expect(sample.finished).toBe(3);
      expect(sample.byType).toEqual((await queue.stats()).byType);
      expect(sample.byType.a!.succeeded).toBe(2);
      expect((await monitor.sample()).finished).toBe(0);
    });

    it('reports the oldest due pending task, not a scheduled one', async () => {
      const queue = await store.open();
      await queue.enqueue('later', {}, { runAt: Date.parse('2030-01-01T00:00:00Z') });
      expect((await queue.monitor().sample()).oldestDueAgeMs).toBe(0);
      await queue.enqueue('now', {}, { runAt: Date.now() - 5000 });
      expect((await queue.monitor().sample()).oldestDueAgeMs).toBeGreaterThanOrEqual(5000);
    });
  });
});
