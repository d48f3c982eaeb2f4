import { describe, expect, it } from 'vitest';
import { WaitAbortedError, WaitTimeoutError } from '@tasklock/core';
import { forEachStore } from './stores.js';

// queue.waitFor on one handle while another handle (as another process would) ends the task:
// the wait is woken by the store's change signal for ends.
forEachStore((store) => {
  describe('waitFor', () => {
    it('resolves with the succeeded task and its result, ended on another handle', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', { n: 1 });
      const waited = queue.waitFor(task.id, { timeoutMs: 10_000 });
      const [held] = await other.claim({ workerId: 'w' });
      await other.complete(held!, { answer: 42 }, 'w');
      expect(await waited).toMatchObject({ id: task.id, status: 'succeeded', result: { answer: 42 } });
    });

    it('resolves with a failed task (its lastError says why) once its attempts are used up', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', null, { maxAttempts: 1 });
      const waited = queue.waitFor(task.id, { timeoutMs: 10_000 });
      const [held] = await other.claim({ workerId: 'w' });
      await other.fail(held!, 'boom', 'w');
      expect(await waited).toMatchObject({ id: task.id, status: 'failed', lastError: 'boom' });
    });

    it('does not resolve on a failure that will be retried, only on the end', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', null, { maxAttempts: 2, backoff: { baseMs: 1, factor: 1, maxMs: 1 } });
      let settled = false;
      const waited = queue.waitFor(task.id, { timeoutMs: 10_000 }).finally(() => (settled = true));
      const [first] = await other.claim({ workerId: 'w' });
      await other.fail(first!, 'first', 'w');
      // The retry's claim reads the task as pending again: the waiter must still be waiting.
      let second;
      while (!(second = (await other.claim({ workerId: 'w' }))[0])) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(settled).toBe(false);
      await other.complete(second, 'second time', 'w');
      expect(await waited).toMatchObject({ status: 'succeeded', result: 'second time', attempts: 2 });
    });

    it('resolves with a cancelled task', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', null);
      const waited = queue.waitFor(task.id, { timeoutMs: 10_000 });
      await other.cancel(task.id, 'not needed');
      expect(await waited).toMatchObject({ id: task.id, status: 'cancelled' });
    });

    it('resolves at once for a task that has already ended', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', null);
      await queue.cancel(task.id);
      expect(await queue.waitFor(task.id, { timeoutMs: 0 })).toMatchObject({ status: 'cancelled' });
    });

    it('many waits on one handle each resolve with their own task', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const tasks = await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'job', payload: i })));
      const waited = Promise.all([...tasks, tasks[0]!].map((task) => queue.waitFor(task.id, { timeoutMs: 10_000 })));
      for (const held of await other.claim({ workerId: 'w', limit: 5 })) await other.complete(held, held.payload, 'w');
      expect((await waited).map((task) => task.result)).toEqual([0, 1, 2, 3, 4, 0]);
    });

    it('rejects with WaitTimeoutError (the task id in it) when the task does not end in time', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', null);
      const error = await queue.waitFor(task.id, { timeoutMs: 50 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect(error).toMatchObject({ code: 'wait-timeout', taskId: task.id });
      expect(await queue.get(task.id)).toMatchObject({ status: 'pending' });
    });

    it('rejects with WaitAbortedError when the signal aborts, and at once when it was aborted already', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', null);
      const controller = new AbortController();
      const waited = queue.waitFor(task.id, { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort(new Error('enough'));
      const error = await waited;
      expect(error).toBeInstanceOf(WaitAbortedError);
      expect(error).toMatchObject({ code: 'wait-aborted', taskId: task.id, name: 'AbortError' });
      await expect(queue.waitFor(task.id, { signal: controller.signal })).rejects.toBeInstanceOf(WaitAbortedError);
    });

    it("the change signal for ends is woken by each way an awaited task ends on another handle", async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const tasks = await queue.enqueueMany(Array.from({ length: 5 }, () => ({ type: 'job', payload: null, maxAttempts: 1 })));
      // What waitFor does first: the store then makes their ends wake the signal for ends.
      await queue.store.awaitEnds(tasks.map((task) => task.id));
      const ends: [string, () => Promise<unknown>][] = [
        ['complete', async () => other.complete((await other.claim({ workerId: 'w' }))[0]!, 1, 'w')],
        ['finishAndClaim', async () => other.finishAndClaim([{ kind: 'complete', lease: (await other.claim({ workerId: 'w' }))[0]!, workerId: 'w', result: 1 }], { workerId: 'w', limit: 1 })],
        ['fail', async () => other.fail((await other.claim({ workerId: 'w2' }))[0]!, 'x', 'w2')],
        ['cancel', async () => other.cancel((await other.list({ status: 'pending' }))[0]!.id)],
      ];
      for (const [how, end] of ends) {
        const signal = queue.changeSignal('end');
        try {
          await signal.listen();
          await end();
          expect(await signal.waitForChange(10_000), how).toBe(true);
        } finally {
          signal.close();
        }
      }
    });

    it('rejects an unknown id with TaskNotFoundError at once, and a bad id or timeout as bad input', async () => {
      const queue = await store.open();
      await expect(queue.waitFor(999_999)).rejects.toMatchObject({ code: 'task-not-found', taskId: 999_999 });
      expect(() => queue.waitFor(0)).toThrow(expect.objectContaining({ code: 'bad-input' }));
      expect(() => queue.waitFor(1, { timeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'bad-input' }));
    });
  });
});
