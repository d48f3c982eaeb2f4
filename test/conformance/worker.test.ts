import { describe, expect, it, vi } from 'vitest';
import { Worker, type TaskContext, type WorkerLogLevel } from '@tasklock/core';
import { replayStatus } from '../utils/lifecycle.js';
import { forEachStore } from './stores.js';
import { recordingLog } from '../utils/recording-log.js';

const IN_2030 = Date.parse('2030-01-01T00:00:00Z');

forEachStore((store) => {
  describe('Worker (in process)', () => {
    it('runs handlers, completes with results, retries failures, stops when empty', async () => {
      const queue = await store.open();
      await queue.enqueueMany([
        ...Array.from({ length: 20 }, (_, i) => ({ type: 'ok', payload: i })),
        { type: 'flaky', payload: 'x', backoff: { baseMs: 1 } },
        { type: 'doomed', payload: 'y', maxAttempts: 2, backoff: { baseMs: 1 } },
      ]);
      const worker = new Worker(
        queue,
        (payload, ctx) => {
          if (ctx.task.type === 'flaky' && ctx.attempt === 1) throw new Error('first try fails');
          if (ctx.task.type === 'doomed') throw new Error('always fails');
          return { doubled: Number(payload) * 2 };
        },
        { concurrency: 4, untilEmpty: true, leaseMs: 5000 },
      );
      const stats = await worker.start();
      expect(stats).toMatchObject({ claimed: 24, succeeded: 21, retried: 2, failed: 1, rejected: 0 });
      expect((await queue.stats()).counts).toMatchObject({ pending: 0, running: 0, succeeded: 21, failed: 1 });
      expect((await queue.list({ type: 'ok', limit: 1 }))[0]!.result).toEqual({ doubled: 0 });
      // A handler's error is stored whole: class, message, stack.
      expect((await queue.list({ type: 'doomed' }))[0]!.lastError).toMatch(/^Error: always fails\n {4}at .*conformance\/worker\.test\.ts/);
    });

    it('aborts a running handler when its task is cancelled, and writes nothing for it', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('long', {});
      let seen: TaskContext | undefined;
      const worker = new Worker(
        queue,
        (_payload, ctx) =>
          new Promise((_resolve, reject) => {
            seen = ctx;
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
        { leaseMs: 600, heartbeatMs: 50 },
      );
      void worker.start();
      await vi.waitFor(() => expect(seen).toBeDefined());
      await queue.cancel(task.id, 'operator said so');
      await vi.waitFor(() => expect(seen!.signal.aborted).toBe(true));
      expect(String(seen!.signal.reason)).toMatch(/cancelled/);
      const stats = await worker.stop();
      expect(stats).toMatchObject({ aborted: 1, succeeded: 0, failed: 0, released: 0 });
      expect((await queue.get(task.id)).status).toBe('cancelled');
      expect(await queue.runs(task.id)).toMatchObject([{ outcome: 'cancelled', error: 'operator said so' }]);
      expect(await replayStatus(queue, task.id)).toBe('cancelled');
    });

    it('frees the slot of a cancelled task even if its handler ignores the signal', async () => {
      const queue = await store.open();
      const stuck = await queue.enqueue('stuck', {});
      const handled: number[] = [];
      const worker = new Worker(
        queue,
        (_payload, ctx) => {
          handled.push(ctx.id);
          return ctx.id === stuck.id ? new Promise(() => {}) : 'ok';
        },
        { concurrency: 1, leaseMs: 600, heartbeatMs: 50 },
      );
      void worker.start();
      await vi.waitFor(() => expect(handled).toEqual([stuck.id]));
      await queue.cancel(stuck.id);
      const next = await queue.enqueue('next', {});
      await vi.waitFor(async () => expect((await queue.get(next.id)).status).toBe('succeeded'));
      expect(worker.stats()).toMatchObject({ aborted: 1, succeeded: 1 });
      await worker.stop();
    });

    it('fails an attempt that exceeds its timeout', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('stuck', {}, { timeoutMs: 50, maxAttempts: 1 });
      const worker = new Worker(
        queue,
        (_payload, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        { untilEmpty: true },
      );
      await worker.start();
      expect(await queue.get(task.id)).toMatchObject({ status: 'failed', lastError: 'timed out after 50 ms' });
    });

    it('graceful stop hands unfinished tasks back to pending without using up an attempt', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('long', {}, { maxAttempts: 1 });
      let started = false;
      const worker = new Worker(
        queue,
        (_payload, ctx) =>
          new Promise((_resolve, reject) => {
            started = true;
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
        { graceMs: 20 },
      );
      const done = worker.start();
      await vi.waitFor(() => expect(started).toBe(true));
      const stats = await worker.stop();
      await done;
      expect(stats.released).toBe(1);
      // The budget is what the user set: the handed-back run is counted apart.
      expect(await queue.get(task.id)).toMatchObject({ status: 'pending', attempts: 1, maxAttempts: 1, releasedAttempts: 1 });
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'release', to_status: 'pending' });
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['released']);
      const row = (await queue.workers()).find((w) => w.id === worker.id);
      expect(row).toMatchObject({ crashed_at: null, alive: false });
      expect(row?.stopped_at).not.toBeNull();
    });

    it('a busy worker stores each batch of results and claims its next batch in one write', async () => {
      const queue = await store.open();
      await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 'job', payload: i })));
      let running = 0;
      let mostAtOnce = 0;
      const writes = queue.writeMetrics().transactions;
      const worker = new Worker(
        queue,
        async () => {
          running += 1;
          mostAtOnce = Math.max(mostAtOnce, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
        },
        { concurrency: 8, batch: 8, untilEmpty: true, untilEmptyWaitMs: 0 },
      );
      expect(await worker.start()).toMatchObject({ claimed: 200, succeeded: 200, rejected: 0 });
      expect(mostAtOnce).toBeLessThanOrEqual(8);
      expect((await queue.stats()).counts.succeeded).toBe(200);
      // 25 batches of 8: a claim and a finish each would be 50 writes and more; finish + claim
      // together make it about 25, plus registering, the first claim, the last finish and the stop.
      expect(queue.writeMetrics().transactions - writes).toBeLessThanOrEqual(35);
    });

    it('records progress through ctx.heartbeat', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('report', {});
      let during: unknown;
      const worker = new Worker(queue, async (_p, ctx) => {
        await ctx.heartbeat({ percent: 50 });
        during = (await queue.get(ctx.id)).progress;
        return 'done';
      }, { untilEmpty: true });
      await worker.start();
      expect(during).toEqual({ percent: 50 });
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', progress: { percent: 50 }, result: 'done' });
    });
  });

  describe('Worker: a task it holds without knowing', () => {
    it('is not kept alive by its heartbeats: the lease runs out, the sweep hands it on, and it runs', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', {});
      // A claim that committed under this worker's id while its answer was lost (a connection cut after COMMIT).
      const [lost] = await other.claim({ workerId: 'w-unaware', leaseMs: 300 });
      expect(lost!.id).toBe(task.id);
      const worker = new Worker(queue, () => 'ran', { id: 'w-unaware', leaseMs: 300, heartbeatMs: 50, reclaimEveryMs: 50, untilEmpty: true, untilEmptyWaitMs: 0 });
      const stats = await worker.start();
      expect(stats.succeeded).toBe(1);
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', attempts: 2, result: 'ran' });
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['reclaimed', 'succeeded']);
    });
  });

  describe('Worker untilEmpty', () => {
    it('stops once nothing is due or running, leaving a task for 2030 scheduled and saying so', async () => {
      const queue = await store.open();
      const later = await queue.enqueue('later', {}, { runAt: IN_2030 });
      const due = await queue.enqueue('now', {});
      const { lines, log } = recordingLog();
      const stats = await new Worker(queue, () => 'done', { untilEmpty: true, log }).start();
      expect(stats).toMatchObject({ claimed: 1, succeeded: 1, scheduled: 1 });
      expect((await queue.get(due.id)).status).toBe('succeeded');
      expect(await queue.get(later.id)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(lines).toContain('info queue empty: nothing due or running; 1 task(s) scheduled later are left (next at 2030-01-01T00:00:00.000Z)');
    });

    it('waits for a retry due within untilEmptyWaitMs, so a drain finishes failed-then-retried tasks', async () => {
      const queue = await store.open();
      const flaky = await queue.enqueue('flaky', {}, { backoff: { baseMs: 200 } });
      const worker = new Worker(
        queue,
        (_payload, ctx) => {
          if (ctx.attempt === 1) throw new Error('first try fails');
          return 'second try';
        },
        { untilEmpty: true },
      );
      const stats = await worker.start();
      expect(stats).toMatchObject({ claimed: 2, retried: 1, succeeded: 1, scheduled: 0 });
      expect(await queue.get(flaky.id)).toMatchObject({ status: 'succeeded', result: 'second try', attempts: 2 });
    });

    it('does not wait for a retry due later than untilEmptyWaitMs: it is left scheduled and counted', async () => {
      const queue = await store.open();
      const flaky = await queue.enqueue('flaky', {}, { backoff: { baseMs: 60_000 } });
      const { lines, log } = recordingLog();
      const stats = await new Worker(queue, () => { throw new Error('fails'); }, { untilEmpty: true, untilEmptyWaitMs: 1000, log }).start();
      expect(stats).toMatchObject({ claimed: 1, retried: 1, scheduled: 1 });
      expect(await queue.get(flaky.id)).toMatchObject({ status: 'pending', attempts: 1 });
      expect(lines.some((line) => /^info queue empty: nothing due or running; 1 task\(s\) scheduled later are left/.test(line))).toBe(true);
    });

    it('counts only its own queue and types as left', async () => {
      const queue = await store.open();
      await queue.enqueue('later', {}, { runAt: IN_2030, queue: 'other' });
      await queue.enqueue('elsewhere', {}, { runAt: IN_2030 });
      const stats = await new Worker(queue, () => 'done', { untilEmpty: true, types: ['mine'] }).start();
      expect(stats).toMatchObject({ claimed: 0, scheduled: 0 });
    });

    it('refuses a negative untilEmptyWaitMs', async () => {
      const queue = await store.open();
      expect(() => new Worker(queue, () => null, { untilEmpty: true, untilEmptyWaitMs: -1 })).toThrow(/untilEmptyWaitMs/);
    });
  });
});
