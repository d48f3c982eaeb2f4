// ctx.progress and ctx.count on every store: both written through the attempt's fenced heartbeat,
// the rest with its outcome in the outcome's transaction; a write from a lost lease lands nothing.
import { describe, expect, it, vi } from 'vitest';
import { BadInputError, LeaseLostError, Worker, type ClaimedTask, type Queue, type TaskContext } from '@tasklock/core';
import { until } from '../utils/until.js';
import { forEachStore } from './stores.js';

const lease = (task: ClaimedTask | undefined) => ({ id: task!.id, leaseToken: task!.leaseToken });

/** A one-shot latch a test opens from outside the handler. */
function latch(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Runs one worker until the queue is empty; `queue` is the worker's own handle. */
async function drain(queue: Queue, handler: (payload: unknown, ctx: TaskContext) => unknown, options: { progressEveryMs?: number; heartbeatMs?: number; untilEmptyWaitMs?: number } = {}) {
  return new Worker(queue, handler, { untilEmpty: true, untilEmptyWaitMs: 0, concurrency: 4, ...options }).start();
}

forEachStore((store) => {
  describe('progress and counters through the fenced heartbeat', () => {
    it('a heartbeat from a lost lease is refused with its progress and counts, which stay as they were', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {}, { maxAttempts: 3 });
      const [old] = await queue.claim({ workerId: 'w-old', leaseMs: 60_000 });
      await queue.heartbeat(lease(old), { leaseMs: 60_000, progress: { step: 1 }, counts: { tokens: 7 } });
      await queue.cancel(task.id);
      await queue.retry(task.id);
      const [current] = await queue.claim({ workerId: 'w-new', leaseMs: 60_000 });
      expect(current!.id).toBe(task.id);
      const refusal = await queue.heartbeat(lease(old), { leaseMs: 60_000, progress: { step: 99 }, counts: { tokens: 1000 } }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(LeaseLostError);
      expect(refusal).toMatchObject({ code: 'lease-lost', taskId: task.id });
      expect(await queue.get(task.id)).toMatchObject({ progress: { step: 1 }, counters: { tokens: 7 } });
      // And with an outcome: a refused end drops the report it carried.
      const [status] = await queue.finishMany([{ kind: 'complete', lease: lease(old), workerId: 'w-old', result: null, report: { progress: '"late"', counts: [{ name: 'tokens', delta: 500 }] } }]);
      expect(status).toBeInstanceOf(LeaseLostError);
      expect(await queue.get(task.id)).toMatchObject({ status: 'running', progress: { step: 1 }, counters: { tokens: 7 } });
    });

    it('counts add up per task and name; an accepted outcome writes its report in its own transaction', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      await queue.heartbeat(lease(held), { leaseMs: 60_000, counts: { tokens: 3, calls: 1 } });
      await queue.heartbeat(lease(held), { leaseMs: 60_000, counts: { tokens: 4, zero: 0 } });
      const [status] = await queue.finishMany([{ kind: 'complete', lease: lease(held), workerId: 'w', result: 'ok', report: { progress: '{"done":true}', counts: [{ name: 'tokens', delta: 10 }, { name: 'tokens', delta: 1 }] } }]);
      expect(status).toBe('succeeded');
      // A name given twice in one report is summed, not refused.
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', progress: { done: true }, counters: { tokens: 18, calls: 1 } });
    });

    it('refuses a bad counter name or delta with a clear error, writing nothing', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      for (const [counts, message] of [
        [{ 'no spaces': 1 }, /count: name must be 1-200 characters/],
        [{ tokens: 1.5 }, /count: delta of tokens must be a whole number/],
        [{ tokens: Number.NaN }, /must be a whole number/],
        [{ tokens: 2 ** 53 }, /must be a whole number/],
      ] as const) {
        await expect(queue.heartbeat(lease(held), { leaseMs: 60_000, counts: counts as Record<string, number> })).rejects.toThrow(message);
      }
      expect((await queue.get(task.id)).counters).toEqual({});
    });
  });

  describe('ctx.progress and ctx.count in a worker', () => {
    it('throttles progress writes, and the last value is stored before the outcome', async () => {
      const queue = await store.open();
      const reader = await store.reopen(queue);
      const task = await queue.enqueue('report', {});
      const heartbeat = vi.spyOn(queue, 'heartbeat');
      const everyMs = 100;
      let elapsedMs = 0;
      await drain(
        queue,
        async (_payload, ctx) => {
          const started = Date.now();
          for (let i = 1; i <= 60; i += 1) {
            ctx.progress({ step: i });
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          elapsedMs = Date.now() - started;
          // Within the throttle window of the last write: only the outcome can carry it.
          ctx.progress({ step: 'last' });
          return 'done';
        },
        { progressEveryMs: everyMs },
      );
      // One write per window at most (the first at once), plus none for the value the outcome carried.
      expect(heartbeat.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(heartbeat.mock.calls.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / everyMs) + 1);
      expect(await reader.get(task.id)).toMatchObject({ status: 'succeeded', progress: { step: 'last' }, result: 'done' });
    });

    it('emits progress once the store has each value: a throttled write, then the last value with the outcome, before completed', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('report', {});
      const written = latch();
      const seen: [string, unknown][] = [];
      const worker = new Worker(
        queue,
        async (_payload, ctx) => {
          ctx.progress({ step: 1 });
          await written.opened;
          ctx.progress({ step: 2 }); // within the throttle window: rides on the outcome
          return 'done';
        },
        { untilEmpty: true, untilEmptyWaitMs: 0, progressEveryMs: 60_000 },
      );
      worker.on('progress', (event) => {
        seen.push(['progress', event.progress]);
        written.open();
      });
      worker.on('completed', () => seen.push(['completed', null]));
      await worker.start();
      expect(seen).toEqual([['progress', { step: 1 }], ['progress', { step: 2 }], ['completed', null]]);
      expect((await queue.get(task.id)).progress).toEqual({ step: 2 });
    });

    it('progress lands while the handler runs, seen from another handle', async () => {
      const queue = await store.open();
      const reader = await store.reopen(queue);
      const task = await queue.enqueue('report', {});
      const seen = latch();
      const run = drain(queue, async (_payload, ctx) => {
        ctx.progress({ percent: 40 });
        ctx.count('tokens', 12);
        await seen.opened;
      });
      await until('progress and counts of the running task', async () => {
        const now = await reader.get(task.id);
        return now.status === 'running' && now.counters.tokens === 12 && (now.progress as { percent?: number } | null)?.percent === 40;
      });
      seen.open();
      await run;
      expect(await reader.get(task.id)).toMatchObject({ status: 'succeeded', progress: { percent: 40 }, counters: { tokens: 12 } });
    });

    it('counters are exact after completion, per task and per type, failed attempts included', async () => {
      const queue = await store.open();
      const tasks = await queue.enqueueMany([
        ...Array.from({ length: 6 }, (_, i) => ({ type: 'chat', payload: { tokens: i + 1 }, maxAttempts: 2, backoff: { baseMs: 10, factor: 1, maxMs: 10 } })),
        ...Array.from({ length: 3 }, () => ({ type: 'embed', payload: { tokens: 100 } })),
      ]);
      const failedOnce = new Set<number>();
      const stats = await drain(
        queue,
        async (payload, ctx) => {
          const { tokens } = payload as { tokens: number };
          for (let i = 0; i < tokens; i += 1) {
            ctx.count('tokens', 1);
            if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
          ctx.count('calls', 1);
          if (ctx.task.type === 'chat' && !failedOnce.has(ctx.id)) {
            failedOnce.add(ctx.id);
            throw new Error('rate limited');
          }
        },
        { heartbeatMs: 50, untilEmptyWaitMs: 10_000 },
      );
      expect(stats).toMatchObject({ succeeded: 9, retried: 6 });
      for (const task of tasks) {
        const { tokens } = task.payload as { tokens: number };
        // chat tasks ran twice: the failed attempt's tokens were spent too.
        const runs = task.type === 'chat' ? 2 : 1;
        expect((await queue.get(task.id)).counters).toEqual({ tokens: tokens * runs, calls: runs });
      }
      expect((await queue.stats()).countersByType).toEqual({ chat: { calls: 12, tokens: 2 * 21 }, embed: { calls: 3, tokens: 300 } });
      const page = await queue.listPage({ type: 'embed' });
      expect(page.tasks.map((t) => t.counters)).toEqual([{ calls: 1, tokens: 100 }, { calls: 1, tokens: 100 }, { calls: 1, tokens: 100 }]);
    });

    it('a handler whose lease is lost writes nothing more: later progress and counts are dropped', async () => {
      const queue = await store.open();
      const operator = await store.reopen(queue);
      const task = await queue.enqueue('job', {});
      const aborted = latch();
      const run = drain(
        queue,
        async (_payload, ctx) => {
          ctx.count('tokens', 3);
          ctx.progress('before');
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          ctx.progress('after');
          ctx.count('tokens', 1000);
          aborted.open();
        },
        { heartbeatMs: 50 },
      );
      await until('the first report written', async () => (await operator.get(task.id)).counters.tokens === 3);
      await operator.cancel(task.id);
      await aborted.opened;
      await run;
      expect(await operator.get(task.id)).toMatchObject({ status: 'cancelled', progress: 'before', counters: { tokens: 3 } });
    });

    it('ctx.count and ctx.progress throw a BadInputError at the call for bad input', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const errors: unknown[] = [];
      await drain(queue, (_payload, ctx) => {
        for (const call of [() => ctx.count('a b', 1), () => ctx.count('tokens', 0.5), () => ctx.progress(10n)]) {
          try {
            call();
          } catch (error) {
            errors.push(error);
          }
        }
        ctx.count('tokens', 2);
      });
      expect(errors).toHaveLength(3);
      for (const error of errors) expect(error).toBeInstanceOf(BadInputError);
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', counters: { tokens: 2 }, progress: null });
    });

    it('ctx.heartbeat still records progress, and takes the buffered counts with it', async () => {
      const queue = await store.open();
      const reader = await store.reopen(queue);
      const task = await queue.enqueue('job', {});
      let during: unknown;
      await drain(queue, async (_payload, ctx) => {
        ctx.count('tokens', 5);
        await ctx.heartbeat({ percent: 50 });
        during = await reader.get(ctx.id);
      }, { heartbeatMs: 10_000 });
      expect(during).toMatchObject({ progress: { percent: 50 }, counters: { tokens: 5 } });
      expect(await reader.get(task.id)).toMatchObject({ status: 'succeeded', counters: { tokens: 5 } });
    });

    it('a task handed back at shutdown keeps the counts of its attempt', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const started = latch();
      const worker = new Worker(queue, async (_payload, ctx) => {
        ctx.count('tokens', 9);
        started.open();
        await new Promise(() => undefined); // ignores its signal: handed back after graceMs
      }, { graceMs: 0, heartbeatMs: 10_000 });
      const done = worker.start();
      await started.opened;
      expect(await worker.stop()).toMatchObject({ released: 1 });
      await done;
      expect(await queue.get(task.id)).toMatchObject({ status: 'pending', counters: { tokens: 9 } });
    });
  });
});
