import { describe, expect, it, vi } from 'vitest';
import { PersistenceError, Worker, type Queue, type TaskContext, type WorkerEventMap, type WorkerEventName, type WorkerLogLevel } from '@tasklock/core';
import { forEachStore } from './stores.js';
import { recordingLog } from '../utils/recording-log.js';

type Recorded = { [Name in WorkerEventName]: [Name, WorkerEventMap[Name]] }[WorkerEventName];

const TASK_EVENTS = ['claimed', 'completed', 'failed', 'retrying', 'released', 'lease-lost', 'progress', 'drained', 'error'] as const;

/** Every event the worker emits, in order, and the task's stored status read when each was emitted. */
function record(worker: Worker, queue: Queue) {
  const events: Recorded[] = [];
  const storedAtEmit: Promise<string>[] = [];
  for (const name of TASK_EVENTS) {
    worker.on(name, (event: WorkerEventMap[typeof name]) => {
      events.push([name, event] as Recorded);
      if (name === 'completed' || name === 'failed' || name === 'retrying' || name === 'released') {
        const { task } = event as WorkerEventMap['completed'];
        storedAtEmit.push(queue.get(task.id).then((stored) => `${name} ${task.id}: ${stored.status}`));
      }
    });
  }
  const of = (id: number) => events.filter(([, event]) => 'task' in event && event.task.id === id).map(([name]) => name);
  return { events, storedAtEmit, of };
}

forEachStore((store) => {
  describe('Worker events', () => {
    it('tells claimed, completed, retrying, failed and drained, each after the store committed it', async () => {
      const queue = await store.open();
      const [ok, flaky, doomed] = await queue.enqueueMany([
        { type: 'ok', payload: { n: 1 } },
        { type: 'flaky', payload: 'x', backoff: { baseMs: 1 } },
        { type: 'doomed', payload: 'y', maxAttempts: 1 },
      ]);
      const worker = new Worker(
        queue,
        (payload, ctx) => {
          if (ctx.task.type === 'flaky' && ctx.attempt === 1) throw new Error('first try fails');
          if (ctx.task.type === 'doomed') throw new Error('always fails');
          return { echoed: payload };
        },
        { untilEmpty: true, leaseMs: 5000, log: recordingLog().log },
      );
      const seen = record(worker, queue);
      const before = Date.now();
      await worker.start();
      expect(seen.of(ok!.id)).toEqual(['claimed', 'completed']);
      expect(seen.of(flaky!.id)).toEqual(['claimed', 'retrying', 'claimed', 'completed']);
      expect(seen.of(doomed!.id)).toEqual(['claimed', 'failed']);
      expect(seen.events.at(-1)).toEqual(['drained', { queue: 'default', types: null }]);
      expect(seen.events.filter(([name]) => name === 'error')).toEqual([]);

      const completed = seen.events.find(([name, event]) => name === 'completed' && event.task.id === ok!.id)![1];
      expect(completed).toMatchObject({ task: { id: ok!.id, type: 'ok', queue: 'default', attempt: 1, payload: { n: 1 } }, attempt: 1, result: { echoed: { n: 1 } } });
      expect((completed as WorkerEventMap['completed']).durationMs).toBeGreaterThanOrEqual(0);
      const retrying = seen.events.find(([name]) => name === 'retrying')![1] as WorkerEventMap['retrying'];
      expect(retrying).toMatchObject({ task: { id: flaky!.id, attempt: 1 }, attempt: 1, retryInMs: 1 });
      expect(retrying.error).toMatch(/^Error: first try fails\n/);
      expect(retrying.runAt).toBeGreaterThanOrEqual(before + 1);
      const failed = seen.events.find(([name]) => name === 'failed')![1] as WorkerEventMap['failed'];
      expect(failed).toMatchObject({ task: { id: doomed!.id, type: 'doomed', payload: 'y' }, attempt: 1 });
      expect(failed.error).toMatch(/^Error: always fails\n/);
      // Read back when each outcome event was emitted: the store had it already.
      expect((await Promise.all(seen.storedAtEmit)).sort()).toEqual(
        [`completed ${ok!.id}: succeeded`, `completed ${flaky!.id}: succeeded`, `failed ${doomed!.id}: failed`, `retrying ${flaky!.id}: `].sort().map((line) =>
          line.endsWith(': ') ? expect.stringMatching(new RegExp(`^retrying ${flaky!.id}: (pending|running|succeeded)$`)) : line,
        ),
      );
    });

    it('tells lease-lost (not completed) when another handle cancels a running task', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('long', { k: 1 });
      let started: TaskContext | undefined;
      const worker = new Worker(
        queue,
        (_payload, ctx) =>
          new Promise((resolve) => {
            started = ctx;
            // Returns normally once aborted: a late result must not be reported as completed.
            ctx.signal.addEventListener('abort', () => resolve('late'));
          }),
        { leaseMs: 600, heartbeatMs: 50, log: recordingLog().log },
      );
      const seen = record(worker, queue);
      void worker.start();
      await vi.waitFor(() => expect(started).toBeDefined());
      await other.cancel(task.id, 'operator said so');
      await vi.waitFor(() => expect(seen.of(task.id)).toContain('lease-lost'));
      await worker.stop();
      expect(seen.of(task.id)).toEqual(['claimed', 'lease-lost']);
      const lost = seen.events.find(([name]) => name === 'lease-lost')![1] as WorkerEventMap['lease-lost'];
      expect(lost).toMatchObject({ task: { id: task.id, payload: { k: 1 } }, attempt: 1 });
      expect(lost.reason).toMatch(/cancel/);
    });

    it('tells lease-lost, never completed, for an outcome the fence refused', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('slow', {});
      let finish: (() => void) | undefined;
      // Heartbeats far apart: the cancel is found out only when the outcome's write is refused.
      const worker = new Worker(queue, () => new Promise<string>((resolve) => (finish = () => resolve('done'))), {
        leaseMs: 60_000,
        heartbeatMs: 20_000,
        log: recordingLog().log,
      });
      const seen = record(worker, queue);
      void worker.start();
      await vi.waitFor(() => expect(finish).toBeDefined());
      await other.cancel(task.id, 'changed my mind');
      finish!();
      await vi.waitFor(() => expect(seen.of(task.id)).toContain('lease-lost'));
      expect((await worker.stop()).rejected).toBe(1);
      expect(seen.of(task.id)).toEqual(['claimed', 'lease-lost']);
      expect((await queue.get(task.id)).status).toBe('cancelled');
    });

    it('tells released for a task handed back at shutdown, and progress once the store has it', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('stuck', {});
      let reported = false;
      const worker = new Worker(
        queue,
        async (_payload, ctx) => {
          await ctx.heartbeat({ percent: 40 });
          reported = true;
          return new Promise(() => {});
        },
        { graceMs: 0, leaseMs: 5000, log: recordingLog().log },
      );
      const seen = record(worker, queue);
      const progressStored: unknown[] = [];
      worker.on('progress', (event) => void queue.get(event.task.id).then((stored) => progressStored.push(stored.progress)));
      void worker.start();
      await vi.waitFor(() => expect(reported).toBe(true));
      await worker.stop();
      expect(seen.of(task.id)).toEqual(['claimed', 'progress', 'released']);
      expect(seen.events.find(([name]) => name === 'progress')![1]).toMatchObject({ task: { id: task.id }, attempt: 1, progress: { percent: 40 } });
      await vi.waitFor(() => expect(progressStored).toEqual([{ percent: 40 }]));
      expect((await Promise.all(seen.storedAtEmit))).toEqual([`released ${task.id}: pending`]);
    });

    it('keeps running when a listener throws or rejects, and reports it as error', async () => {
      const queue = await store.open();
      await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'ok', payload: i })));
      const { lines, log } = recordingLog();
      const worker = new Worker(queue, () => 'fine', { untilEmpty: true, concurrency: 2, log });
      const errors: Error[] = [];
      const afterThrower: number[] = [];
      worker.on('claimed', () => {
        throw new Error('listener bug');
      });
      worker.on('claimed', (event) => afterThrower.push(event.task.id));
      worker.on('completed', async () => Promise.reject(new Error('async listener bug')));
      const onceSeen: number[] = [];
      worker.once('claimed', (event) => onceSeen.push(event.task.id));
      const removed = () => onceSeen.push(-1);
      worker.once('completed', removed);
      worker.off('completed', removed);
      expect(worker.listenerCount('completed')).toBe(1);
      worker.on('error', (error) => {
        errors.push(error);
        throw new Error('even the error listener throws');
      });
      const stats = await worker.start();
      expect(stats).toMatchObject({ claimed: 5, succeeded: 5 });
      expect(afterThrower).toHaveLength(5);
      expect(onceSeen).toEqual([afterThrower[0]]);
      await vi.waitFor(() => expect(errors).toHaveLength(10));
      expect(errors.filter((error) => error.message === 'listener bug')).toHaveLength(5);
      expect(errors.filter((error) => error.message === 'async listener bug')).toHaveLength(5);
      expect(lines.filter((line) => line.startsWith("error a 'claimed' listener threw: "))).toHaveLength(5);
      expect(lines.filter((line) => line.startsWith("error a 'error' listener threw: "))).toHaveLength(10);
      expect((await queue.stats()).counts).toMatchObject({ succeeded: 5 });
    });

    it('survives a failed write with no error listener, and tells one when there is', async () => {
      for (const listening of [false, true]) {
        const queue = await store.open();
        const task = await queue.enqueue('ok', {});
        // A write refused for good, once, at the seam: the worker keeps the outcome and tries again.
        const real = { finish: queue.store.finish.bind(queue.store), finishAndClaim: queue.store.finishAndClaim.bind(queue.store) };
        let refusals = 0;
        const refuseOnce = () => {
          refusals += 1;
          return refusals === 1 ? Promise.reject(new PersistenceError('disk says no', { transient: false })) : null;
        };
        queue.store.finish = (outcomes) => refuseOnce() ?? real.finish(outcomes);
        queue.store.finishAndClaim = (outcomes, next) => refuseOnce() ?? real.finishAndClaim(outcomes, next);
        const { lines, log } = recordingLog();
        const worker = new Worker(queue, () => 'stored', { untilEmpty: true, log });
        const errors: Error[] = [];
        if (listening) worker.on('error', (error) => errors.push(error));
        const stats = await worker.start();
        expect(stats).toMatchObject({ succeeded: 1, persistFailures: 1 });
        expect((await queue.get(task.id)).result).toBe('stored');
        expect(lines.filter((line) => line.startsWith('error could not persist 1 outcome(s), retrying: '))).toHaveLength(1);
        expect(errors.map((error) => error.message)).toEqual(listening ? ['disk says no'] : []);
      }
    });
  });
});
