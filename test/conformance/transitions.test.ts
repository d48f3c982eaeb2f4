import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type Queue, type TaskStatus } from '@tasklock/core';
import { replayStatus, snapshot, taskIn, type Placed } from '../utils/lifecycle.js';
import { forEachStore } from './stores.js';

type Attempt = (queue: Queue, placed: Placed) => Promise<unknown>;

/** Fenced moves use the task's own (possibly stale) lease, or a made-up one if never claimed. */
const leaseOf = (placed: Placed) => placed.lease ?? { id: placed.task.id, leaseToken: 'never-issued' };

const MOVES: Record<string, { allowed: TaskStatus[]; refusal: string; run: Attempt; after: TaskStatus }> = {
  heartbeat: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.heartbeat(leaseOf(p), { leaseMs: 5000, progress: { step: 1 } }), after: 'running' },
  complete: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.complete(leaseOf(p), { ok: 1 }), after: 'succeeded' },
  fail: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.fail(leaseOf(p), 'bad'), after: 'pending' },
  release: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.release(leaseOf(p)), after: 'pending' },
  cancel: { allowed: ['pending', 'running'], refusal: 'invalid-transition', run: (q, p) => q.cancel(p.task.id), after: 'cancelled' },
  retry: { allowed: ['failed', 'cancelled'], refusal: 'invalid-transition', run: (q, p) => q.retry(p.task.id), after: 'pending' },
};

forEachStore((store) => {
  describe('every transition from every status, through the queue', () => {
    for (const [name, move] of Object.entries(MOVES)) {
      for (const status of TASK_STATUSES) {
        const allowed = move.allowed.includes(status);
        it(`${name} from ${status} ${allowed ? 'succeeds' : `is refused (${move.refusal})`}`, async () => {
          const queue = await store.open();
          const placed = await taskIn(queue, status);
          expect(placed.task.status).toBe(status);
          const before = await snapshot(queue, placed.task.id);
          if (allowed) {
            await move.run(queue, placed);
            const after = await queue.get(placed.task.id);
            expect(after.status).toBe(move.after);
            const events = await queue.events(placed.task.id);
            // Heartbeats write no event; every other move exactly one, from where the task was.
            expect(events.length - before.events.length).toBe(name === 'heartbeat' ? 0 : 1);
            if (name !== 'heartbeat') expect(events.at(-1)).toMatchObject({ transition: name, from_status: status, to_status: move.after });
            expect(await replayStatus(queue, placed.task.id)).toBe(after.status);
          } else {
            await expect(move.run(queue, placed)).rejects.toMatchObject({ code: move.refusal, taskId: placed.task.id });
            expect(await snapshot(queue, placed.task.id)).toEqual(before);
          }
        });
      }
    }

    it('an unknown id is TaskNotFoundError for every move, and nothing is written', async () => {
      const queue = await store.open();
      const ghost: Placed = { task: { id: 424242 } as Placed['task'], lease: { id: 424242, leaseToken: 'x' } as Placed['lease'] };
      for (const move of Object.values(MOVES)) {
        await expect(move.run(queue, ghost)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
      }
      await expect(queue.get(424242)).rejects.toThrow(/does not exist/);
      await expect(queue.get(424242)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
      await expect(queue.runs(424242)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
      await expect(queue.events(424242)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
      expect((await queue.stats()).counts).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    });

    it('claim takes only pending tasks whose run_at has come', async () => {
      const queue = await store.open();
      const placed = await Promise.all(TASK_STATUSES.map((status) => taskIn(queue, status)));
      for (const p of placed) {
        const claimed = await queue.claim({ workerId: 'w2', queue: p.task.queue, limit: 10 });
        expect(claimed.map((t) => t.id)).toEqual(p.task.status === 'pending' ? [p.task.id] : []);
      }
      const later = await queue.enqueue('job', {}, { delayMs: 60_000, queue: 'later' });
      expect(await queue.claim({ workerId: 'w2', queue: 'later' })).toEqual([]);
      expect((await queue.get(later.id)).status).toBe('pending');
    });

    it('a fail on the last attempt ends in failed, and the event says so', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {}, { maxAttempts: 1 });
      const [lease] = await queue.claim({ workerId: 'w' });
      await queue.fail(lease!, 'bad', 'w');
      expect((await queue.get(task.id)).status).toBe('failed');
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'fail', from_status: 'running', to_status: 'failed', attempt: 1, worker_id: 'w', detail: 'bad' });
      expect(await replayStatus(queue, task.id)).toBe('failed');
    });
  });
});
