import { describe, expect, it } from 'vitest';
import { LeaseLostError, TaskNotFoundError, type ClaimedTask, type Queue } from '@tasklock/core';
import { snapshot } from '../utils/lifecycle.js';
import { forEachStore } from './stores.js';

const lease = (task: ClaimedTask | undefined) => ({ id: task!.id, leaseToken: task!.leaseToken });

/** The four fenced writes a lease holder can make. */
const FENCED: Record<string, (queue: Queue, held: { id: number; leaseToken: string }) => Promise<unknown>> = {
  heartbeat: (q, l) => q.heartbeat(l, { leaseMs: 60_000, progress: 'late' }),
  complete: (q, l) => q.complete(l, 'late', 'w-old'),
  fail: (q, l) => q.fail(l, 'late', 'w-old'),
  release: (q, l) => q.release(l, 'w-old'),
};

/** Ways a holder's lease goes stale while the task is running again under someone else's. */
const STALE_BY: Record<string, (queue: Queue, old: ClaimedTask) => Promise<void>> = {
  'it released the task': async (q, old) => q.release(lease(old), 'w-old'),
  'an operator cancelled and retried it': async (q, old) => {
    await q.cancel(old.id);
    await q.retry(old.id);
  },
};

forEachStore((store) => {
  describe('the fence: a write about a task needs its current lease token', () => {
    for (const [how, makeStale] of Object.entries(STALE_BY)) {
      it(`a stale lease (${how}) is refused for every fenced move while the new holder keeps the task`, async () => {
        const queue = await store.open();
        const task = await queue.enqueue('job', {}, { maxAttempts: 5 });
        const [old] = await queue.claim({ workerId: 'w-old', leaseMs: 60_000 });
        await makeStale(queue, old!);
        const [current] = await queue.claim({ workerId: 'w-new', leaseMs: 60_000 });
        expect(current!.id).toBe(task.id);
        expect(current!.leaseToken).not.toBe(old!.leaseToken);
        const before = await snapshot(queue, task.id);
        for (const [name, write] of Object.entries(FENCED)) {
          const refusal = await write(queue, lease(old)).then(() => null, (error: unknown) => error);
          expect(refusal, name).toBeInstanceOf(LeaseLostError);
          expect(refusal, name).toMatchObject({ code: 'lease-lost', taskId: task.id, currentStatus: 'running' });
        }
        expect(await snapshot(queue, task.id)).toEqual(before);
        await queue.complete(lease(current), 'winner', 'w-new');
        expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', result: 'winner' });
      });
    }

    it('a made-up token is refused while the holder keeps its lease', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      const before = await snapshot(queue, task.id);
      for (const [name, write] of Object.entries(FENCED)) {
        await expect(write(queue, { id: task.id, leaseToken: `${held!.leaseToken}x` }), name).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id });
      }
      expect(await snapshot(queue, task.id)).toEqual(before);
      await queue.complete(lease(held), 'ok');
      expect((await queue.get(task.id)).status).toBe('succeeded');
      // Once finished, the holder's own lease is spent too.
      await expect(queue.complete(lease(held), 'twice')).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id, currentStatus: 'succeeded' });
      expect((await queue.get(task.id)).result).toBe('ok');
    });

    it('a lease names one task: another task\'s token is refused', async () => {
      const queue = await store.open();
      await queue.enqueueMany([{ type: 'a', payload: 1 }, { type: 'b', payload: 2 }]);
      const [a, b] = await queue.claim({ workerId: 'w', limit: 2 });
      await expect(queue.complete({ id: a!.id, leaseToken: b!.leaseToken }, 'crossed')).rejects.toMatchObject({ code: 'lease-lost', taskId: a!.id });
      expect((await queue.get(a!.id)).status).toBe('running');
      expect((await queue.get(b!.id)).status).toBe('running');
    });
  });

  describe('finishMany', () => {
    it('fences each completion of a batch on its own: index for index, a task named twice completes once, runs and events in batch order', async () => {
      const queue = await store.open();
      const tasks = await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'job', payload: i })));
      const held = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 5 });
      const [a, b, c, d, e] = held;
      const answers = await queue.finishMany([
        { kind: 'complete', lease: lease(c), workerId: 'w', result: 'c' },
        { kind: 'complete', lease: { id: a!.id, leaseToken: 'not-its-token' }, workerId: 'w', result: 'stale' },
        { kind: 'fail', lease: lease(d), workerId: 'w', error: 'boom' },
        { kind: 'complete', lease: lease(b), workerId: 'w', result: { b: ['x"y'] } },
        { kind: 'complete', lease: lease(c), workerId: 'w', result: 'c again' },
        { kind: 'complete', lease: { id: 999_999, leaseToken: 'x' }, workerId: 'w', result: null },
        { kind: 'complete', lease: lease(e), workerId: 'other-worker', result: 'e' },
      ]);
      expect(answers[0]).toBe('succeeded');
      expect(answers[1]).toMatchObject({ code: 'lease-lost', taskId: a!.id });
      expect(answers[2]).toBe('pending');
      expect(answers[3]).toBe('succeeded');
      expect(answers[4]).toMatchObject({ code: 'lease-lost', taskId: c!.id });
      expect(answers[5]).toMatchObject({ code: 'task-not-found', taskId: 999_999 });
      expect(answers[6]).toBe('succeeded');
      expect(await queue.get(c!.id)).toMatchObject({ status: 'succeeded', result: 'c', lockedBy: null, leaseExpiresAt: null });
      expect(await queue.get(b!.id)).toMatchObject({ status: 'succeeded', result: { b: ['x"y'] } });
      expect(await queue.get(a!.id)).toMatchObject({ status: 'running', lockedBy: 'w', result: null });
      const completeEventIds = [];
      for (const [task, worker] of [[c, 'w'], [b, 'w'], [e, 'other-worker']] as const) {
        expect(await queue.runs(task!.id)).toMatchObject([{ attempt: 1, outcome: 'succeeded', worker_id: 'w' }]);
        const ended = (await queue.events(task!.id)).at(-1);
        expect(ended).toMatchObject({ transition: 'complete', from_status: 'running', to_status: 'succeeded', attempt: 1, worker_id: worker });
        completeEventIds.push(ended!.id);
      }
      // In the order the outcomes were given (c before b), each worker's batch in turn.
      expect(completeEventIds).toEqual([...completeEventIds].sort((x, y) => x! - y!));
      expect((await queue.runs(a!.id)).map((r) => r.outcome)).toEqual(['running']);
      expect(tasks).toHaveLength(5);
    });

    it('answers each outcome with the task\'s new status, or the typed refusal of a stale lease', async () => {
      const queue = await store.open();
      await queue.enqueue('a', {});
      await queue.enqueue('b', {}, { maxAttempts: 2, backoff: { baseMs: 60_000 } });
      await queue.enqueue('c', {}, { maxAttempts: 1 });
      await queue.enqueue('d', {});
      const [a, b, c, d] = await queue.claim({ workerId: 'w', leaseMs: 10_000, limit: 4 });
      await queue.cancel(d!.id);
      const answers = await queue.finishMany([
        { kind: 'complete', lease: lease(a), workerId: 'w', result: 1 },
        { kind: 'fail', lease: lease(b), workerId: 'w', error: 'again' },
        { kind: 'fail', lease: lease(c), workerId: 'w', error: 'for good' },
        { kind: 'complete', lease: lease(d), workerId: 'w', result: 2 },
      ]);
      expect(answers).toHaveLength(4);
      expect(answers.slice(0, 3)).toEqual(['succeeded', 'pending', 'failed']);
      expect(answers[3]).toBeInstanceOf(LeaseLostError);
      expect(answers[3]).toMatchObject({ code: 'lease-lost', taskId: d!.id });
      // Each answer is what the store now holds; the refusal stopped none of the others.
      expect(await queue.get(a!.id)).toMatchObject({ status: 'succeeded', result: 1 });
      expect(await queue.get(b!.id)).toMatchObject({ status: 'pending', lastError: 'again' });
      expect(await queue.get(c!.id)).toMatchObject({ status: 'failed', lastError: 'for good' });
      expect(await queue.get(d!.id)).toMatchObject({ status: 'cancelled', result: null });
    });

    it('answers an unknown task with TaskNotFoundError in its place, and a release with pending', async () => {
      const queue = await store.open();
      await queue.enqueueMany([{ type: 'a', payload: 1 }, { type: 'b', payload: 2 }]);
      const [a, b] = await queue.claim({ workerId: 'w', limit: 2 });
      const answers = await queue.finishMany([
        { kind: 'release', lease: lease(a), workerId: 'w' },
        { kind: 'complete', lease: { id: 987654, leaseToken: 'nope' }, workerId: 'w', result: null },
        { kind: 'complete', lease: lease(b), workerId: 'w', result: 'b' },
      ]);
      expect(answers[0]).toBe('pending');
      expect(answers[1]).toBeInstanceOf(TaskNotFoundError);
      expect(answers[1]).toMatchObject({ code: 'task-not-found', taskId: 987654 });
      expect(answers[2]).toBe('succeeded');
      expect(await queue.get(a!.id)).toMatchObject({ status: 'pending', releasedAttempts: 1 });
      expect((await queue.list({ limit: 10 })).map((t) => t.id)).toEqual([a!.id, b!.id]);
    });

    it('one outcome per lease in a batch: a second outcome for the same lease is refused', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('a', {});
      const [held] = await queue.claim({ workerId: 'w' });
      const answers = await queue.finishMany([
        { kind: 'complete', lease: lease(held), workerId: 'w', result: 'first' },
        { kind: 'fail', lease: lease(held), workerId: 'w', error: 'second' },
      ]);
      expect(answers[0]).toBe('succeeded');
      expect(answers[1]).toMatchObject({ code: 'lease-lost', taskId: task.id });
      expect(await queue.get(task.id)).toMatchObject({ status: 'succeeded', result: 'first', lastError: null });
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['succeeded']);
    });
  });

  describe('finishAndClaim', () => {
    it('ends the attempts and claims the next batch in one write: answers index for index, new leases in claim order', async () => {
      const queue = await store.open();
      const tasks = await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'job', payload: i, priority: i === 4 ? 9 : 0 })));
      const [first, second] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 2 });
      expect([first!.id, second!.id]).toEqual([tasks[4]!.id, tasks[0]!.id]);
      const writes = queue.writeMetrics().transactions;
      const { statuses, claimed } = await queue.finishAndClaim(
        [
          { kind: 'complete', lease: lease(first), workerId: 'w', result: { done: 1 } },
          { kind: 'complete', lease: { id: second!.id, leaseToken: 'not-its-token' }, workerId: 'w', result: null },
        ],
        { workerId: 'w', leaseMs: 60_000, limit: 2 },
      );
      expect(queue.writeMetrics().transactions - writes).toBe(1);
      expect(statuses[0]).toBe('succeeded');
      expect(statuses[1]).toMatchObject({ code: 'lease-lost', taskId: second!.id });
      expect(claimed.map((task) => task.id)).toEqual([tasks[1]!.id, tasks[2]!.id]);
      for (const task of claimed) {
        expect(await queue.get(task.id)).toMatchObject({ status: 'running', lockedBy: 'w', attempts: 1, leaseExpiresAt: task.leaseExpiresAt });
        expect(await queue.runs(task.id)).toMatchObject([{ outcome: 'running', lease_token: task.leaseToken }]);
      }
      expect(await queue.get(first!.id)).toMatchObject({ status: 'succeeded', result: { done: 1 } });
      // The refused outcome changed nothing: its task runs on under its own lease.
      expect(await queue.get(second!.id)).toMatchObject({ status: 'running', lockedBy: 'w' });
      await queue.complete(lease(second), 'mine');
    });

    it('batch after batch of completions: a stale or cancelled lease among them is refused alone, the others complete, the claim goes on', async () => {
      const queue = await store.open();
      const tasks = await queue.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ type: 'job', payload: i })));
      const [a, b, c, d] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 4 });
      const next = { workerId: 'w', leaseMs: 60_000, limit: 1 };
      const first = await queue.finishAndClaim([{ kind: 'complete', lease: lease(a), workerId: 'w', result: 'a' }], next);
      expect(first.statuses).toEqual(['succeeded']);
      const [e] = first.claimed;
      expect(e!.id).toBe(tasks[4]!.id);
      const second = await queue.finishAndClaim(
        [
          { kind: 'complete', lease: lease(b), workerId: 'w', result: 'b' },
          { kind: 'complete', lease: { id: c!.id, leaseToken: 'not-its-token' }, workerId: 'w', result: 'stale' },
          { kind: 'complete', lease: lease(d), workerId: 'other', result: 'd' },
        ],
        { ...next, limit: 2 },
      );
      expect(second.statuses[0]).toBe('succeeded');
      expect(second.statuses[1]).toMatchObject({ code: 'lease-lost', taskId: c!.id });
      expect(second.statuses[2]).toBe('succeeded');
      expect(second.claimed.map((task) => task.id)).toEqual([tasks[5]!.id]);
      expect(await queue.get(c!.id)).toMatchObject({ status: 'running', lockedBy: 'w', result: null });
      expect(await queue.get(d!.id)).toMatchObject({ status: 'succeeded', result: 'd' });
      expect((await queue.events(d!.id)).at(-1)).toMatchObject({ transition: 'complete', worker_id: 'other' });
      await queue.cancel(e!.id);
      const third = await queue.finishAndClaim(
        [
          { kind: 'complete', lease: lease(e), workerId: 'w', result: 'e' },
          { kind: 'complete', lease: lease(c), workerId: 'w', result: 'c' },
        ],
        next,
      );
      expect(third.statuses[0]).toMatchObject({ code: 'lease-lost', taskId: e!.id, currentStatus: 'cancelled' });
      expect(third.statuses[1]).toBe('succeeded');
      expect(third.claimed).toEqual([]);
      const fourth = await queue.finishAndClaim([{ kind: 'complete', lease: lease(second.claimed[0]), workerId: 'w', result: 'f' }], next);
      expect(fourth).toEqual({ statuses: ['succeeded'], claimed: [] });
      for (const task of [a, b, c, d, second.claimed[0]]) expect((await queue.runs(task!.id)).map((r) => r.outcome)).toEqual(['succeeded']);
      expect((await queue.runs(e!.id)).map((r) => r.outcome)).toEqual(['cancelled']);
    });

    it('with nothing due it claims nothing and still stores the outcomes', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      const { statuses, claimed } = await queue.finishAndClaim([{ kind: 'fail', lease: lease(held), workerId: 'w', error: 'boom' }], {
        workerId: 'w',
        leaseMs: 60_000,
        limit: 4,
      });
      // The failed task is pending again, but in its backoff: not due, so not claimed back.
      expect(statuses).toEqual(['pending']);
      expect(claimed).toEqual([]);
      expect(await queue.get(task.id)).toMatchObject({ status: 'pending', lastError: 'boom' });
    });

    it('a bad claim is bad input and writes nothing of the outcomes either', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      const before = await snapshot(queue, task.id);
      await expect(
        queue.finishAndClaim([{ kind: 'complete', lease: lease(held), workerId: 'w', result: 1 }], { workerId: 'w', leaseMs: 60_000, limit: 0 }),
      ).rejects.toMatchObject({ code: 'bad-input' });
      expect(await snapshot(queue, task.id)).toEqual(before);
    });
  });

  describe('heartbeat', () => {
    it('extends the lease from now and records progress; without progress it keeps the last; no event', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 1000 });
      const events = await queue.events(task.id);
      const before = Date.now();
      await queue.heartbeat(lease(held), { leaseMs: 60_000, progress: { percent: 10 } });
      const after = Date.now();
      const beat = await queue.get(task.id);
      expect(beat).toMatchObject({ status: 'running', progress: { percent: 10 }, lockedBy: 'w' });
      expect(beat.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(beat.leaseExpiresAt).toBeLessThanOrEqual(after + 60_000);
      await queue.heartbeat(lease(held), { leaseMs: 120_000 });
      const again = await queue.get(task.id);
      expect(again.progress).toEqual({ percent: 10 });
      expect(again.leaseExpiresAt).toBeGreaterThanOrEqual(before + 120_000);
      expect(await queue.events(task.id)).toEqual(events);
      expect(await queue.runs(task.id)).toMatchObject([{ outcome: 'running', lease_token: held!.leaseToken }]);
    });

    it("a worker's heartbeat extends the leases it names and still holds, and answers them; a cancelled task is not among them", async () => {
      const queue = await store.open();
      await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'job', payload: i })));
      const mine = await queue.claim({ workerId: 'w', leaseMs: 1000, limit: 4 });
      const [theirs] = await queue.claim({ workerId: 'other', leaseMs: 1000 });
      await queue.cancel(mine[1]!.id);
      const before = Date.now();
      // mine[3] is held by 'w' but not named: as a claim whose answer the worker never got.
      const held = await queue.heartbeatWorker('w', 60_000, [mine[0]!.id, mine[1]!.id, mine[2]!.id, theirs!.id]);
      expect(held).toEqual(new Map([mine[0]!, mine[2]!].map((t) => [t.id, t.leaseToken])));
      for (const t of [mine[0]!, mine[2]!]) expect((await queue.get(t.id)).leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect((await queue.get(theirs!.id)).leaseExpiresAt).toBe(theirs!.leaseExpiresAt);
      expect((await queue.get(mine[3]!.id)).leaseExpiresAt).toBe(mine[3]!.leaseExpiresAt);
      expect(await queue.heartbeatWorker('nobody', 60_000, [mine[0]!.id])).toEqual(new Map());
      expect(await queue.heartbeatWorker('w', 60_000, [])).toEqual(new Map());
    });

    it('a lease shorter than the minimum, or not an integer, is bad input and extends nothing', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [held] = await queue.claim({ workerId: 'w', leaseMs: 60_000 });
      const before = await snapshot(queue, task.id);
      for (const leaseMs of [-1, 99, 1.5, Number.NaN]) {
        await expect(queue.heartbeat(lease(held), { leaseMs, progress: 'x' })).rejects.toMatchObject({ code: 'bad-input' });
        await expect(queue.heartbeatWorker('w', leaseMs, [task.id])).rejects.toMatchObject({ code: 'bad-input' });
      }
      expect(await snapshot(queue, task.id)).toEqual(before);
    });
  });
});
