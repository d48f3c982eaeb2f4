import { describe, expect, it } from 'vitest';
import { forEachStore } from './stores.js';

// Two queues on one store, as two processes would have them: what one commits, the other sees
// and is fenced by.
forEachStore((store) => {
  describe('two handles on one store', () => {
    it('each sees the other\'s writes at once, and a lease taken on one is honoured on the other', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const task = await queue.enqueue('job', { n: 1 });
      expect(await other.get(task.id)).toMatchObject({ status: 'pending', payload: { n: 1 } });
      const [held] = await other.claim({ workerId: 'w-other' });
      expect(held!.id).toBe(task.id);
      expect(await queue.get(task.id)).toMatchObject({ status: 'running', lockedBy: 'w-other' });
      expect(await queue.claim({ workerId: 'w' })).toEqual([]);
      // The fence lives in the store, not in the handle that claimed.
      await queue.complete(held!, 'done elsewhere', 'w-other');
      await expect(other.complete(held!, 'twice')).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id });
      expect(await other.get(task.id)).toMatchObject({ status: 'succeeded', result: 'done elsewhere' });
    });

    it('claims racing on two handles never hand out a task twice', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const tasks = await queue.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ type: 'job', payload: i })));
      const claimed: number[] = [];
      // Each round takes at least one task until none is left: more rounds than tasks means a task came back.
      for (let round = 1; ; round += 1) {
        expect(round, 'claim rounds').toBeLessThanOrEqual(tasks.length + 1);
        const batch = await Promise.all([
          queue.claim({ workerId: 'a', limit: 3 }),
          other.claim({ workerId: 'b', limit: 3 }),
          queue.claim({ workerId: 'c', limit: 2 }),
          other.claim({ workerId: 'd', limit: 2 }),
        ]);
        const ids = batch.flat().map((t) => t.id);
        if (ids.length === 0) break;
        claimed.push(...ids);
      }
      expect(claimed).toHaveLength(tasks.length);
      expect(new Set(claimed)).toEqual(new Set(tasks.map((t) => t.id)));
      for (const task of tasks) expect((await queue.runs(task.id)).map((r) => r.attempt)).toEqual([1]);
    });

    it('the change signal wakes a waiter on another handle\'s commit', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const signal = queue.changeSignal();
      try {
        await signal.listen();
        const woken = signal.waitForChange(10_000);
        await other.enqueue('x', {});
        expect(await woken).toBe(true);
      } finally {
        signal.close();
      }
    });

    it('a change signal that is not listening is woken by notify() and its timeout only; after unlisten() again', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const signal = queue.changeSignal();
      try {
        // Deaf from the start: the commit below must not wake it (it times out), notify() must.
        const deaf = signal.waitForChange(300);
        await other.enqueue('x', {});
        expect(await deaf).toBe(false);
        await signal.listen();
        const heard = signal.waitForChange(10_000);
        await other.enqueue('x', {});
        expect(await heard).toBe(true);
        signal.unlisten();
        const deafAgain = signal.waitForChange(300);
        await other.enqueue('x', {});
        expect(await deafAgain).toBe(false);
        const notified = signal.waitForChange(10_000);
        signal.notify();
        expect(await notified).toBe(true);
      } finally {
        signal.close();
      }
    });

    it('the change signal wakes its waiter on notify() from this process', async () => {
      const queue = await store.open();
      const signal = queue.changeSignal();
      try {
        const woken = signal.waitForChange(10_000);
        signal.notify();
        expect(await woken).toBe(true);
      } finally {
        signal.close();
      }
    });
  });
});
