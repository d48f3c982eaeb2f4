import { describe, expect, it } from 'vitest';
import type { ClaimedTask } from '@tasklock/core';
import { replayStatus } from '../utils/lifecycle.js';
import { forEachStore, untilPast } from './stores.js';

/** Waits for the wall clock to pass a claimed task's lease expiry (claimed with a short lease). */
const leaseGone = (task: ClaimedTask | undefined) => untilPast(task!.leaseExpiresAt, `task ${task!.id}'s lease expiry`);

const NOTHING = { leaseExpired: 0, deadOwner: 0, deadWorkers: [], killedGroups: [], blocked: [], pruned: 0 };

forEachStore((store) => {
  describe('reclaim: an expired lease is taken back', () => {
    it('to pending while attempts are left; the late completion is refused by the fence', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('slow', {}, { maxAttempts: 2 });
      const [stale] = await queue.claim({ workerId: 'w-old', leaseMs: 100 });
      await leaseGone(stale);
      expect(await queue.reclaim()).toEqual({ ...NOTHING, leaseExpired: 1 });
      const back = await queue.get(task.id);
      expect(back).toMatchObject({ status: 'pending', attempts: 1, lastError: 'reclaimed: lease expired (worker w-old, attempt 1)', leaseExpiresAt: null, lockedBy: null, finishedAt: null });
      expect(await queue.runs(task.id)).toMatchObject([{ attempt: 1, worker_id: 'w-old', outcome: 'reclaimed', error: back.lastError }]);
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'reclaim', from_status: 'running', to_status: 'pending', attempt: 1, worker_id: 'w-old', detail: back.lastError });
      const [fresh] = await queue.claim({ workerId: 'w-new' });
      expect(fresh!.attempts).toBe(2);
      await expect(queue.complete(stale!, 'late')).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id });
      await queue.complete(fresh!, 'winner');
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', result: 'winner', attempts: 2 });
      const events = await queue.events(task.id);
      expect(events.find((e) => e.transition === 'reclaim')?.detail).toMatch(/w-old/);
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['reclaimed', 'succeeded']);
      expect(await replayStatus(queue, task.id)).toBe('succeeded');
    });

    it('to failed on the last attempt, and the old holder can no longer write', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('slow', {}, { maxAttempts: 1 });
      const [stale] = await queue.claim({ workerId: 'w', leaseMs: 100 });
      await leaseGone(stale);
      expect(await queue.reclaim()).toMatchObject({ leaseExpired: 1, deadOwner: 0 });
      const failed = await queue.get(task.id);
      expect(failed).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^reclaimed: lease expired/), leaseExpiresAt: null });
      expect(failed.finishedAt).not.toBeNull();
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['reclaimed']);
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'reclaim', to_status: 'failed' });
      await expect(queue.fail(stale!, 'late')).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id, currentStatus: 'failed' });
      await expect(queue.heartbeat(stale!, { leaseMs: 60_000 })).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id });
      expect(await queue.claim({ workerId: 'w' })).toEqual([]);
      expect(await replayStatus(queue, task.id)).toBe('failed');
    });

    it('a lease not yet expired is left alone, and a heartbeat moves its expiry', async () => {
      const queue = await store.open();
      await queue.enqueueMany([{ type: 'long', payload: 1 }, { type: 'beating', payload: 2 }]);
      const [long] = await queue.claim({ workerId: 'w', types: ['long'], leaseMs: 60_000 });
      const [beating] = await queue.claim({ workerId: 'w', types: ['beating'], leaseMs: 100 });
      await queue.heartbeat(beating!, { leaseMs: 60_000 });
      // Past the expiry the claim gave: the heartbeat's is what counts.
      await leaseGone(beating);
      expect(await queue.reclaim()).toEqual(NOTHING);
      expect((await queue.get(long!.id)).status).toBe('running');
      expect((await queue.get(beating!.id)).status).toBe('running');
      expect((await queue.stats()).overdueLeases).toBe(0);
      await queue.complete(beating!, 'kept');
      expect((await queue.get(beating!.id)).status).toBe('succeeded');
    });

    it('stats counts an expired lease as overdue until it is reclaimed', async () => {
      const queue = await store.open();
      await queue.enqueue('slow', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 100 });
      expect((await queue.stats()).overdueLeases).toBe(0);
      await leaseGone(held);
      expect((await queue.stats()).overdueLeases).toBe(1);
      expect((await queue.stats()).counts.running).toBe(1);
      await queue.reclaim();
      expect((await queue.stats()).overdueLeases).toBe(0);
      expect((await queue.stats()).counts).toMatchObject({ running: 0, pending: 1 });
    });

    it('two sweepers on two handles take a task back once', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const tasks = await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'slow', payload: i })));
      const held = await queue.claim({ workerId: 'w-old', leaseMs: 100, limit: 5 });
      await leaseGone(held.at(-1));
      const [a, b] = await Promise.all([queue.reclaim(), other.reclaim()]);
      expect(a.leaseExpired + b.leaseExpired).toBe(5);
      for (const task of tasks) {
        expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['reclaimed']);
        expect((await queue.events(task.id)).filter((e) => e.transition === 'reclaim')).toHaveLength(1);
        expect(await other.get(task.id)).toMatchObject({ status: 'pending', attempts: 1 });
      }
      expect(await queue.reclaim()).toEqual(NOTHING);
    });
  });
});
