import { afterEach, describe, expect, it } from 'vitest';
import { TASK_STATUSES, type Queue, type TaskStatus } from '@tasklock/core';
import { closeQueues, openTempQueue, replayStatus, snapshot, taskIn, type Placed } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

type Attempt = (queue: Queue, placed: Placed) => Promise<unknown>;

/** Fenced moves use the task's own (possibly stale) lease, or a made-up one if never claimed. */
const leaseOf = (placed: Placed) => placed.lease ?? { id: placed.task.id, leaseToken: 'never-issued' };

const MOVES: Record<string, { allowed: TaskStatus[]; refusal: string; run: Attempt; after?: TaskStatus | 'deleted' }> = {
  heartbeat: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.heartbeat(leaseOf(p), { leaseMs: 5000, progress: { step: 1 } }), after: 'running' },
  complete: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.complete(leaseOf(p), { ok: 1 }), after: 'succeeded' },
  fail: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.fail(leaseOf(p), 'bad'), after: 'pending' },
  release: { allowed: ['running'], refusal: 'lease-lost', run: (q, p) => q.release(leaseOf(p)), after: 'pending' },
  cancel: { allowed: ['pending', 'running'], refusal: 'invalid-transition', run: (q, p) => q.cancel(p.task.id), after: 'cancelled' },
  retry: { allowed: ['failed', 'cancelled'], refusal: 'invalid-transition', run: (q, p) => q.retry(p.task.id), after: 'pending' },
};

describe('every transition from every status, through the queue', () => {
  for (const [name, move] of Object.entries(MOVES)) {
    for (const status of TASK_STATUSES) {
      const allowed = move.allowed.includes(status);
      it(`${name} from ${status} ${allowed ? 'succeeds' : `is refused (${move.refusal})`}`, async () => {
        const queue = await openTempQueue();
        const placed = await taskIn(queue, status);
        const before = snapshot(queue, placed.task.id);
        if (allowed) {
          await move.run(queue, placed);
          const after = queue.get(placed.task.id);
          expect(after.status).toBe(move.after);
          const events = queue.events(placed.task.id);
          // Heartbeats write no event; every other move exactly one.
          expect(events.length - before.events.length).toBe(name === 'heartbeat' ? 0 : 1);
          expect(replayStatus(queue, placed.task.id)).toBe(after.status);
        } else {
          await expect(move.run(queue, placed)).rejects.toMatchObject({ code: move.refusal, taskId: placed.task.id });
          expect(snapshot(queue, placed.task.id)).toEqual(before);
        }
      });
    }
  }

  it('an unknown id is TaskNotFoundError for every move, and nothing is written', async () => {
    const queue = await openTempQueue();
    const ghost: Placed = { task: { id: 424242 } as Placed['task'], lease: { id: 424242, leaseToken: 'x' } as Placed['lease'] };
    for (const move of Object.values(MOVES)) {
      await expect(move.run(queue, ghost)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
    }
    expect(() => queue.get(424242)).toThrow(/does not exist/);
    expect(queue.stats().counts).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
  });

  it('claim takes only pending tasks whose run_at has come', async () => {
    const queue = await openTempQueue();
    const placed = await Promise.all(TASK_STATUSES.map((status) => taskIn(queue, status)));
    for (const p of placed) {
      const claimed = await queue.claim({ workerId: 'w2', queue: p.task.queue, limit: 10 });
      expect(claimed.map((t) => t.id)).toEqual(p.task.status === 'pending' ? [p.task.id] : []);
    }
    const later = await queue.enqueue('job', {}, { delayMs: 60_000, queue: 'later' });
    expect(await queue.claim({ workerId: 'w2', queue: 'later' })).toEqual([]);
    expect(queue.get(later.id).status).toBe('pending');
  });

  it('purge deletes only old terminal tasks, with their runs and events', async () => {
    const queue = await openTempQueue();
    const placed = await Promise.all(TASK_STATUSES.map((status) => taskIn(queue, status)));
    await expect(queue.purge({ olderThanMs: 0, statuses: ['running'] })).rejects.toMatchObject({ code: 'bad-input' });
    expect(await queue.purge({ olderThanMs: 60_000 })).toBe(0);
    expect(await queue.purge({ olderThanMs: 0 })).toBe(3);
    const left = queue.list().map((t) => t.status).sort();
    expect(left).toEqual(['pending', 'running']);
    const gone = placed.find((p) => p.task.status === 'succeeded')!.task.id;
    expect(snapshot(queue, gone)).toEqual({ task: [], runs: [], events: [] });
  });
});
