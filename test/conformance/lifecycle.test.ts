import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_BACKOFF } from '@tasklock/core';
import { replayStatus } from '../utils/lifecycle.js';
import { forEachStore, untilPast } from './stores.js';

const IN_2030 = Date.parse('2030-01-01T00:00:00Z');

forEachStore((store) => {
  describe('enqueue', () => {
    it('stores a new task as given: pending, every option kept, one enqueue event, no run', async () => {
      const queue = await store.open();
      const before = Date.now();
      const task = await queue.enqueue('mail', { to: 'a', n: [1, 2] }, {
        queue: 'outbox',
        priority: 7,
        runAt: IN_2030,
        maxAttempts: 5,
        backoff: { baseMs: 250 },
        uniqueKey: 'mail-a',
        timeoutMs: 9000,
      });
      expect(task).toMatchObject({
        created: true,
        type: 'mail',
        queue: 'outbox',
        status: 'pending',
        priority: 7,
        payload: { to: 'a', n: [1, 2] },
        result: null,
        lastError: null,
        progress: null,
        attempts: 0,
        maxAttempts: 5,
        releasedAttempts: 0,
        backoff: { ...DEFAULT_BACKOFF, baseMs: 250 },
        uniqueKey: 'mail-a',
        timeoutMs: 9000,
        runAt: IN_2030,
        finishedAt: null,
        leaseExpiresAt: null,
        lockedBy: null,
      });
      expect(task.createdAt).toBeGreaterThanOrEqual(before);
      expect(task.createdAt).toBeLessThanOrEqual(Date.now());
      expect(task.updatedAt).toBe(task.createdAt);
      const { created: _created, ...stored } = task;
      expect(await queue.get(task.id)).toEqual(stored);
      expect(await queue.events(task.id)).toMatchObject([{ task_id: task.id, transition: 'enqueue', from_status: null, to_status: 'pending', attempt: 0, worker_id: null }]);
      expect(await queue.runs(task.id)).toEqual([]);
      // Without options: the defaults, due now.
      const plain = await queue.enqueue('plain', null);
      expect(plain).toMatchObject({ queue: 'default', priority: 0, maxAttempts: 3, backoff: DEFAULT_BACKOFF, uniqueKey: null, timeoutMs: null, payload: null });
      expect(plain.runAt).toBe(plain.createdAt);
      expect(plain.id).toBeGreaterThan(task.id);
    });

    it('validates payloads and options, writing nothing for a bad batch', async () => {
      const queue = await store.open({ maxPayloadBytes: 64 });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: [string, unknown, object][] = [
        ['job', cyclic, {}],
        ['job', 10n, {}],
        ['job', undefined, {}],
        ['job', 'x'.repeat(100), {}],
        ['', {}, {}],
        ['job', {}, { priority: 1.5 }],
        ['job', {}, { maxAttempts: 0 }],
        ['job', {}, { delayMs: -1 }],
        ['job', {}, { runAt: Number.NaN }],
        ['job', {}, { runAt: 1, delayMs: 1 }],
        ['job', {}, { timeoutMs: 0 }],
      ];
      for (const [type, payload, options] of bad) {
        await expect(queue.enqueue(type, payload, options)).rejects.toMatchObject({ code: 'bad-input' });
      }
      await expect(queue.enqueueMany([{ type: 'ok', payload: 1 }, { type: 'job', payload: 'x'.repeat(100) }])).rejects.toThrow(/task #2: payload is \d+ bytes/);
      expect(await queue.list()).toEqual([]);
      expect((await queue.stats()).counts).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    });

    it('is idempotent by unique key among live tasks only', async () => {
      const queue = await store.open();
      const first = await queue.enqueue('mail', { to: 'a' }, { uniqueKey: 'mail-a' });
      const again = await queue.enqueue('mail', { to: 'b' }, { uniqueKey: 'mail-a' });
      expect(first.created).toBe(true);
      const { created: _created, ...stored } = first;
      expect(await queue.get(first.id)).toEqual(stored);
      expect(again).toMatchObject({ id: first.id, created: false, payload: { to: 'a' } });
      const [lease] = await queue.claim({ workerId: 'w' });
      expect((await queue.enqueue('mail', {}, { uniqueKey: 'mail-a' })).id).toBe(first.id);
      await queue.complete(lease!, null);
      const fresh = await queue.enqueue('mail', {}, { uniqueKey: 'mail-a' });
      expect(fresh.created).toBe(true);
      expect(fresh.id).not.toBe(first.id);
      const batch = await queue.enqueueMany([
        { type: 'x', payload: 1, uniqueKey: 'k' },
        { type: 'x', payload: 2, uniqueKey: 'k' },
      ]);
      expect(batch.map((t) => t.created)).toEqual([true, false]);
      expect(batch[0]!.id).toBe(batch[1]!.id);
      // The answered duplicate wrote no task and no event.
      expect(await queue.list({ type: 'x' })).toHaveLength(1);
      expect(await queue.events(first.id)).toHaveLength(3);
    });

    it('enqueues a batch in the order given, answering each keyed task already live (before or earlier in the batch) instead', async () => {
      const queue = await store.open();
      const before = await queue.enqueue('k', { n: 0 }, { uniqueKey: 'held' });
      const batch = await queue.enqueueMany([
        { type: 'a', payload: 1 },
        { type: 'k', payload: 2, uniqueKey: 'held' },
        { type: 'k', payload: 3, uniqueKey: 'new', delayMs: 60_000 },
        { type: 'a', payload: 4, priority: 7 },
        { type: 'k', payload: 5, uniqueKey: 'new' },
        { type: 'a', payload: 6 },
      ]);
      expect(batch.map((t) => [t.created, t.payload])).toEqual([
        [true, 1],
        [false, { n: 0 }],
        [true, 3],
        [true, 4],
        [false, 3],
        [true, 6],
      ]);
      expect(batch[1]!.id).toBe(before.id);
      expect(batch[4]!.id).toBe(batch[2]!.id);
      const made = [batch[0]!, batch[2]!, batch[3]!, batch[5]!];
      expect(made.map((t) => t.id)).toEqual([...made.map((t) => t.id)].sort((x, y) => x - y));
      expect(made.every((t) => t.id > before.id)).toBe(true);
      expect(batch[2]!.runAt - batch[2]!.createdAt).toBe(60_000);
      for (const task of made) {
        const { created: _created, ...stored } = task;
        expect(await queue.get(task.id)).toEqual(stored);
      }
      expect(await queue.list({ type: 'k' })).toHaveLength(2);
    });
  });

  describe('claim', () => {
    it('orders by priority, then run_at, then id, and respects types and limit', async () => {
      const queue = await store.open();
      const now = Date.now();
      const low = await queue.enqueue('a', 1, { priority: 0, runAt: now - 1000 });
      const highLate = await queue.enqueue('a', 2, { priority: 5, runAt: now - 10 });
      const highEarly = await queue.enqueue('a', 3, { priority: 5, runAt: now - 500 });
      const other = await queue.enqueue('b', 4, { priority: 9 });
      const lowToo = await queue.enqueue('a', 5, { priority: 0, runAt: now - 1000 });
      const claimed = await queue.claim({ workerId: 'w', types: ['a'], limit: 3, leaseMs: 1000 });
      expect(claimed.map((t) => t.id)).toEqual([highEarly.id, highLate.id, low.id]);
      expect(claimed.every((t) => t.attempts === 1 && t.lockedBy === 'w' && t.leaseToken.length > 0)).toBe(true);
      expect(new Set(claimed.map((t) => t.leaseToken)).size).toBe(3);
      expect((await queue.claim({ workerId: 'w', limit: 10 })).map((t) => t.id)).toEqual([other.id, lowToo.id]);
      expect(await queue.runs(low.id)).toMatchObject([{ attempt: 1, worker_id: 'w', outcome: 'running' }]);
    });

    it('takes only its own queue', async () => {
      const queue = await store.open();
      const mine = await queue.enqueue('job', {}, { queue: 'mine' });
      await queue.enqueue('job', {}, { queue: 'theirs', priority: 100 });
      await queue.enqueue('job', {});
      expect((await queue.claim({ workerId: 'w', queue: 'mine', limit: 10 })).map((t) => t.id)).toEqual([mine.id]);
      expect(await queue.claim({ workerId: 'w', queue: 'mine', limit: 10 })).toEqual([]);
    });

    it('opens a run and writes a claim event under a fresh lease that expires leaseMs after the claim', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const before = Date.now();
      const [claimed] = await queue.claim({ workerId: 'w', leaseMs: 5000 });
      const after = Date.now();
      expect(claimed).toMatchObject({ id: task.id, status: 'running', attempts: 1, lockedBy: 'w' });
      expect(claimed!.leaseExpiresAt).toBeGreaterThanOrEqual(before + 5000);
      expect(claimed!.leaseExpiresAt).toBeLessThanOrEqual(after + 5000);
      expect(await queue.get(task.id)).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'w', leaseExpiresAt: claimed!.leaseExpiresAt });
      expect(await queue.runs(task.id)).toMatchObject([{ task_id: task.id, attempt: 1, worker_id: 'w', lease_token: claimed!.leaseToken, outcome: 'running', finished_at: null, error: null }]);
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'claim', from_status: 'pending', to_status: 'running', attempt: 1, worker_id: 'w' });
      await expect(queue.claim({ workerId: 'w', leaseMs: 99 })).rejects.toMatchObject({ code: 'bad-input' });
      await expect(queue.claim({ workerId: '' })).rejects.toMatchObject({ code: 'bad-input' });
    });
  });

  describe('complete, fail, retry budget', () => {
    it('complete stores the result, ends the lease and closes the run', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {});
      const [lease] = await queue.claim({ workerId: 'w' });
      await queue.complete(lease!, { answer: 42 }, 'w');
      const done = await queue.get(task.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { answer: 42 }, attempts: 1, leaseExpiresAt: null, lockedBy: null });
      expect(done.finishedAt).toBeGreaterThanOrEqual(lease!.updatedAt);
      expect(await queue.runs(task.id)).toMatchObject([{ attempt: 1, outcome: 'succeeded', error: null }]);
      expect((await queue.runs(task.id))[0]!.finished_at).toBe(done.finishedAt);
      expect((await queue.events(task.id)).at(-1)).toMatchObject({ transition: 'complete', from_status: 'running', to_status: 'succeeded', attempt: 1, worker_id: 'w' });
      expect(await replayStatus(queue, task.id)).toBe('succeeded');
      // A result the queue cannot store whole is refused before anything is written.
      const big = await store.open({ maxResultBytes: 16 });
      const other = await big.enqueue('job', {});
      const [held] = await big.claim({ workerId: 'w' });
      await expect(big.complete(held!, 'x'.repeat(100))).rejects.toMatchObject({ code: 'bad-input', taskId: other.id });
      expect((await big.get(other.id)).status).toBe('running');
    });

    it('retries with the backoff schedule, then fails for good after maxAttempts', async () => {
      const queue = await store.open();
      const backoff = { baseMs: 400, factor: 3, maxMs: 1000 };
      const task = await queue.enqueue('flaky', {}, { maxAttempts: 3, backoff });
      expect(task.backoff).toEqual(backoff);
      let dueAt = task.runAt;
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        // Waiting for the retry's run_at: the clock, not another party.
        await untilPast(dueAt, `attempt ${attempt}'s run_at`);
        const [lease] = await queue.claim({ workerId: 'w' });
        expect(lease).toMatchObject({ id: task.id, attempts: attempt });
        const before = Date.now();
        await queue.fail(lease!, `boom ${attempt}`);
        const after = await queue.get(task.id);
        if (attempt < 3) {
          expect(after).toMatchObject({ status: 'pending', lastError: `boom ${attempt}`, leaseExpiresAt: null, lockedBy: null, finishedAt: null });
          const delay = backoffDelayMs(backoff, attempt);
          // The second delay is capped by maxMs (400 × 3 = 1200 > 1000).
          expect(delay).toBe(attempt === 1 ? 400 : 1000);
          expect(after.runAt).toBeGreaterThanOrEqual(before + delay);
          expect(after.runAt).toBeLessThanOrEqual(Date.now() + delay);
          expect(await queue.claim({ workerId: 'w' })).toEqual([]);
          dueAt = after.runAt;
        } else {
          expect(after).toMatchObject({ status: 'failed', lastError: 'boom 3', attempts: 3 });
          expect(after.finishedAt).not.toBeNull();
        }
      }
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['retry', 'retry', 'failed']);
      expect((await queue.runs(task.id)).map((r) => r.error)).toEqual(['boom 1', 'boom 2', 'boom 3']);
      expect(await replayStatus(queue, task.id)).toBe('failed');
      expect(backoffDelayMs(DEFAULT_BACKOFF, 30)).toBe(DEFAULT_BACKOFF.maxMs);
    });

    it('released attempts never count against max_attempts, and never change it', async () => {
      const queue = await store.open();
      const task = await queue.enqueue('job', {}, { maxAttempts: 1, backoff: { baseMs: 1 } });
      for (const round of [1, 2]) {
        const [claimed] = await queue.claim({ workerId: `w${round}`, leaseMs: 10_000 });
        await queue.release({ id: claimed!.id, leaseToken: claimed!.leaseToken }, `w${round}`);
        expect(await queue.get(task.id)).toMatchObject({ status: 'pending', attempts: round, maxAttempts: 1, releasedAttempts: round });
      }
      // The one attempt the user allowed is still there: a failure now is final, not a retry.
      const [third] = await queue.claim({ workerId: 'w3', leaseMs: 10_000 });
      expect(third!.attempts).toBe(3);
      await queue.fail({ id: third!.id, leaseToken: third!.leaseToken }, 'boom', 'w3');
      expect(await queue.get(task.id)).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 1, releasedAttempts: 2 });
      expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['released', 'released', 'failed']);
      // An expired lease after a release is judged by the same budget.
      const other = await queue.enqueue('job', {}, { maxAttempts: 2 });
      const [a] = await queue.claim({ workerId: 'w4', leaseMs: 10_000 });
      await queue.release({ id: a!.id, leaseToken: a!.leaseToken }, 'w4');
      const [ghost] = await queue.claim({ workerId: 'ghost', leaseMs: 100 });
      expect(ghost!.id).toBe(other.id);
      await untilPast(ghost!.leaseExpiresAt, "the ghost's lease");
      expect(await queue.reclaim()).toMatchObject({ leaseExpired: 1 });
      expect(await queue.get(other.id)).toMatchObject({ status: 'pending', attempts: 2, releasedAttempts: 1, maxAttempts: 2 });
      // An operator retry grants one more attempt that counts: max_attempts grows only then.
      await queue.cancel(other.id);
      await queue.retry(other.id);
      expect(await queue.get(other.id)).toMatchObject({ status: 'pending', maxAttempts: 2 });
    });
  });

  describe('listing', () => {
    it('listPage pages through a changing table with no gap or repeat, oldest or newest first', async () => {
      const queue = await store.open();
      await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: i % 3 === 0 ? 'x' : 'y', payload: i })));
      const initial = (await queue.list({ type: 'x', limit: 1000 })).map((t) => t.id);
      expect(initial).toHaveLength(17);
      for (const order of ['asc', 'desc'] as const) {
        const seen: number[] = [];
        let afterId: number | undefined;
        // 17 tasks at first, 4 a page, one more each page: done in 6; 20 pages means the cursor is ignored.
        for (let pages = 1; ; pages += 1) {
          expect(pages, 'pages before the last').toBeLessThanOrEqual(20);
          const page = await queue.listPage({ type: 'x', limit: 4, order, afterId });
          seen.push(...page.tasks.map((t) => t.id));
          expect(page.tasks.every((t) => t.type === 'x')).toBe(true);
          // A write between pages: a new task of the filter each time.
          await queue.enqueue('x', 'meanwhile');
          if (page.next === null) break;
          expect(page.tasks).toHaveLength(4);
          afterId = page.next;
        }
        expect(new Set(seen).size).toBe(seen.length);
        const expected = order === 'asc' ? seen : [...seen].reverse();
        expect(expected).toEqual([...expected].sort((a, b) => a - b));
        for (const id of initial) expect(seen).toContain(id);
      }
    });

    it('next is null on the last page, even when it is exactly full', async () => {
      const queue = await store.open();
      const ids = (await queue.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ type: 'x', payload: i })))).map((t) => t.id);
      expect(await queue.listPage({ limit: 2 })).toMatchObject({ next: ids[1] });
      expect(await queue.listPage({ limit: 2, afterId: ids[1] })).toMatchObject({ next: null });
      expect((await queue.listPage({ limit: 2, order: 'desc' })).tasks.map((t) => t.id)).toEqual([ids[3], ids[2]]);
      expect(await queue.listPage({ limit: 2, order: 'desc', afterId: ids[2] })).toMatchObject({ next: null });
      await expect(queue.listPage({ order: 'sideways' as never })).rejects.toThrow(/order must be asc or desc/);
      await expect(queue.listPage({ status: [] })).rejects.toThrow(/status/);
    });

    it('list filters by status, type and queue together, each a list of any of its values', async () => {
      const queue = await store.open();
      const a1 = await queue.enqueue('a', {}, { queue: 'q1' });
      const b1 = await queue.enqueue('b', {}, { queue: 'q1' });
      const a2 = await queue.enqueue('a', {}, { queue: 'q2' });
      const c2 = await queue.enqueue('c', {}, { queue: 'q2' });
      await queue.cancel(b1.id);
      const ids = async (filter: Parameters<typeof queue.list>[0]) => (await queue.list(filter)).map((t) => t.id);
      expect(await ids({ type: 'a' })).toEqual([a1.id, a2.id]);
      expect(await ids({ queue: 'q2' })).toEqual([a2.id, c2.id]);
      expect(await ids({ type: ['a', 'b'], queue: 'q1' })).toEqual([a1.id, b1.id]);
      expect(await ids({ status: 'cancelled' })).toEqual([b1.id]);
      expect(await ids({ status: 'pending', queue: 'q1' })).toEqual([a1.id]);
      expect(await ids({ type: 'nothing' })).toEqual([]);
      expect(await ids({ limit: 2 })).toEqual([a1.id, b1.id]);
      await expect(queue.list({ status: 'done' as never })).rejects.toMatchObject({ code: 'bad-input' });
    });
  });

  describe('scheduled: pending with run_at in the future, a view apart from due pending', () => {
    it('stats counts scheduled apart from pending, overall, by queue and by type', async () => {
      const queue = await store.open();
      await queue.enqueue('later', {}, { runAt: IN_2030, queue: 'q1' });
      await queue.enqueue('now', {}, { queue: 'q1' });
      await queue.enqueue('now', {}, { delayMs: 60_000, queue: 'q2' });
      const stats = await queue.stats();
      expect(stats.counts).toEqual({ pending: 1, scheduled: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
      expect(stats.byQueue.q1).toMatchObject({ pending: 1, scheduled: 1 });
      expect(stats.byQueue.q2).toMatchObject({ pending: 0, scheduled: 1 });
      expect(stats.byType.later).toMatchObject({ pending: 0, scheduled: 1 });
      expect(stats.byType.now).toMatchObject({ pending: 1, scheduled: 1 });
    });

    it('list filters on scheduled and on due pending; a task keeps its stored status', async () => {
      const queue = await store.open();
      const later = await queue.enqueue('later', {}, { runAt: IN_2030 });
      const now = await queue.enqueue('now', {});
      expect((await queue.list({ status: 'scheduled' })).map((t) => t.id)).toEqual([later.id]);
      expect((await queue.list({ status: 'pending' })).map((t) => t.id)).toEqual([now.id]);
      expect((await queue.list({ status: ['pending', 'scheduled'] })).map((t) => t.id)).toEqual([later.id, now.id]);
      expect((await queue.list({ status: 'scheduled' }))[0]!.status).toBe('pending');
    });

    it('a scheduled task is not claimable until its run_at, and the backlog reads say so', async () => {
      const queue = await store.open();
      const soon = await queue.enqueue('job', {}, { delayMs: 500 });
      const later = await queue.enqueue('job', {}, { runAt: IN_2030 });
      expect(await queue.claim({ workerId: 'w', limit: 10 })).toEqual([]);
      expect(await queue.hasDue('default', null)).toBe(false);
      const soonIn = await queue.nextDueInMs('default', null);
      expect(soonIn).toBeGreaterThan(0);
      expect(soonIn).toBeLessThanOrEqual(500);
      expect(await queue.liveCount('default', null)).toBe(2);
      expect(await queue.backlog('default', null)).toEqual({ due: 0, running: 0, scheduled: 2, nextRunAt: soon.runAt, nextDueInMs: expect.any(Number) });
      await untilPast(soon.runAt, "the task's run_at");
      expect(await queue.hasDue('default', null)).toBe(true);
      expect(await queue.hasDue('default', ['other-type'])).toBe(false);
      expect(await queue.hasDue('elsewhere', null)).toBe(false);
      const [claimed] = await queue.claim({ workerId: 'w', limit: 10 });
      expect(claimed!.id).toBe(soon.id);
      const backlog = await queue.backlog('default', null);
      expect(backlog).toEqual({ due: 0, running: 1, scheduled: 1, nextRunAt: later.runAt, nextDueInMs: expect.any(Number) });
      // Both counted from the store's now: the same distance to 2030, give or take the reads' gap.
      const laterIn = (await queue.nextDueInMs('default', null))!;
      expect(laterIn).toBeGreaterThan(later.runAt - Date.now() - 60_000);
      expect(Math.abs(laterIn - backlog.nextDueInMs!)).toBeLessThan(60_000);
      expect(await queue.liveCount('default', null)).toBe(2);
      expect(await queue.liveCount('default', ['other-type'])).toBe(0);
    });

    it('the reads take a types list as it is at each call, whatever the caller did to the array since', async () => {
      const queue = await store.open();
      await queue.enqueue('mail', {});
      const types = ['sms'];
      expect(await queue.hasDue('default', types)).toBe(false);
      types[0] = 'mail';
      expect(await queue.hasDue('default', types)).toBe(true);
      expect(await queue.liveCount('default', types)).toBe(1);
      const frozen = Object.freeze(['sms']);
      expect(await queue.hasDue('default', frozen)).toBe(false);
      expect(await queue.hasDue('default', frozen)).toBe(false);
    });
  });
});
