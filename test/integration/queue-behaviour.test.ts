import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Queue, SCHEMA_VERSION, Worker, backoffDelayMs, DEFAULT_BACKOFF, type TaskContext } from '@tasklock/core';
import { closeQueues, openTempQueue, replayStatus } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

describe('enqueue', () => {
  it('validates payloads and options, writing nothing for a bad batch', async () => {
    const queue = await openTempQueue({ maxPayloadBytes: 64 });
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
    expect(queue.list()).toEqual([]);
  });

  it('is idempotent by unique key among live tasks only', async () => {
    const queue = await openTempQueue();
    const first = await queue.enqueue('mail', { to: 'a' }, { uniqueKey: 'mail-a' });
    const again = await queue.enqueue('mail', { to: 'b' }, { uniqueKey: 'mail-a' });
    expect(first.created).toBe(true);
    const { created: _created, ...stored } = first;
    expect(queue.get(first.id)).toEqual(stored);
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
  });
});

describe('claim', () => {
  it('orders by priority, then run_at, then id, and respects types and limit', async () => {
    const queue = await openTempQueue();
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
    expect(queue.runs(low.id)).toMatchObject([{ attempt: 1, worker_id: 'w', outcome: 'running' }]);
  });

  it('uses the partial index in claim order (no table scan, no sort)', async () => {
    const queue = await openTempQueue();
    const { CLAIM_CANDIDATES_SQL } = await import('@tasklock/core');
    const plan = queue.db.connection
      .prepare(`EXPLAIN QUERY PLAN ${CLAIM_CANDIDATES_SQL}`)
      .all({ queue: 'default', now: Date.now(), types: null, limit: 32 }) as { detail: string }[];
    const text = plan.map((row) => row.detail).join('\n');
    expect(text).toContain('USING INDEX tasks_claimable');
    expect(text).not.toMatch(/TEMP B-TREE|SCAN tasks/);
  });
});

describe('failures, retries, backoff', () => {
  it('retries with the backoff schedule, then fails for good after maxAttempts', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('flaky', {}, { maxAttempts: 3, backoff: { baseMs: 1000, factor: 3, maxMs: 5000 } });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await queue.db.write((db) => db.prepare('UPDATE tasks SET run_at = 0 WHERE id = ?').run(task.id));
      const [lease] = await queue.claim({ workerId: 'w' });
      expect(lease).toMatchObject({ id: task.id, attempts: attempt });
      const before = Date.now();
      await queue.fail(lease!, `boom ${attempt}`);
      const after = queue.get(task.id);
      if (attempt < 3) {
        expect(after.status).toBe('pending');
        const delay = backoffDelayMs({ baseMs: 1000, factor: 3, maxMs: 5000 }, attempt);
        expect(delay).toBe(attempt === 1 ? 1000 : 3000);
        expect(after.runAt).toBeGreaterThanOrEqual(before + delay);
        expect(after.runAt).toBeLessThanOrEqual(Date.now() + delay);
        expect(await queue.claim({ workerId: 'w' })).toEqual([]);
      } else {
        expect(after).toMatchObject({ status: 'failed', lastError: 'boom 3', attempts: 3 });
      }
    }
    expect(queue.runs(task.id).map((r) => r.outcome)).toEqual(['retry', 'retry', 'failed']);
    expect(replayStatus(queue, task.id)).toBe('failed');
    expect(backoffDelayMs(DEFAULT_BACKOFF, 30)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it('an expired lease is reclaimed and the late completion is refused by the fence', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('slow', {}, { maxAttempts: 2 });
    const [stale] = await queue.claim({ workerId: 'w-old', leaseMs: 100 });
    await queue.db.write((db) => db.prepare('UPDATE tasks SET lease_expires_at = 0 WHERE id = ?').run(task.id));
    expect(await queue.reclaim()).toMatchObject({ expired: 1 });
    const [fresh] = await queue.claim({ workerId: 'w-new' });
    expect(fresh!.attempts).toBe(2);
    await expect(queue.complete(stale!, 'late')).rejects.toMatchObject({ code: 'lease-lost', taskId: task.id });
    await queue.complete(fresh!, 'winner');
    expect(queue.get(task.id)).toMatchObject({ status: 'succeeded', result: 'winner', attempts: 2 });
    const events = queue.events(task.id);
    expect(events.find((e) => e.transition === 'reclaim')?.detail).toMatch(/w-old/);
    expect(queue.runs(task.id).map((r) => r.outcome)).toEqual(['reclaimed', 'succeeded']);
  });

  it('an expired lease on the last attempt fails the task', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('slow', {}, { maxAttempts: 1 });
    await queue.claim({ workerId: 'w', leaseMs: 100 });
    await queue.db.write((db) => db.prepare('UPDATE tasks SET lease_expires_at = 0 WHERE id = ?').run(task.id));
    await queue.reclaim();
    expect(queue.get(task.id)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^reclaimed: lease expired/) });
  });
});

describe('Worker (in process)', () => {
  it('runs handlers, completes with results, retries failures, stops when empty', async () => {
    const queue = await openTempQueue();
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
    expect(queue.stats().counts).toMatchObject({ pending: 0, running: 0, succeeded: 21, failed: 1 });
    expect(queue.list({ type: 'ok', limit: 1 })[0]!.result).toEqual({ doubled: 0 });
    // A handler's error is stored whole: class, message, stack.
    expect(queue.list({ type: 'doomed' })[0]!.lastError).toMatch(/^Error: always fails\n {4}at .*queue-behaviour\.test\.ts/);
  });

  it('aborts a running handler when its task is cancelled, and writes nothing for it', async () => {
    const queue = await openTempQueue();
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
    expect(queue.get(task.id).status).toBe('cancelled');
    expect(queue.runs(task.id)).toMatchObject([{ outcome: 'cancelled', error: 'operator said so' }]);
    expect(replayStatus(queue, task.id)).toBe('cancelled');
  });

  it('frees the slot of a cancelled task even if its handler ignores the signal', async () => {
    const queue = await openTempQueue();
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
    await vi.waitFor(() => expect(queue.get(next.id).status).toBe('succeeded'));
    expect(worker.stats()).toMatchObject({ aborted: 1, succeeded: 1 });
    await worker.stop();
  });

  it('fails an attempt that exceeds its timeout', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('stuck', {}, { timeoutMs: 50, maxAttempts: 1 });
    const worker = new Worker(
      queue,
      (_payload, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      { untilEmpty: true },
    );
    await worker.start();
    expect(queue.get(task.id)).toMatchObject({ status: 'failed', lastError: 'timed out after 50 ms' });
  });

  it('graceful stop hands unfinished tasks back to pending without using up an attempt', async () => {
    const queue = await openTempQueue();
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
    expect(queue.get(task.id)).toMatchObject({ status: 'pending', attempts: 1, maxAttempts: 1, releasedAttempts: 1 });
    expect(queue.events(task.id).at(-1)).toMatchObject({ transition: 'release', to_status: 'pending' });
    expect(queue.runs(task.id).map((r) => r.outcome)).toEqual(['released']);
    expect(queue.workers().find((w) => w.id === worker.id)).toMatchObject({ crashed_at: null });
    expect(queue.workers().find((w) => w.id === worker.id)?.stopped_at).not.toBeNull();
  });

  it('released attempts never count against max_attempts, and never change it', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('job', {}, { maxAttempts: 1, backoff: { baseMs: 1 } });
    for (const round of [1, 2]) {
      const [claimed] = await queue.claim({ workerId: `w${round}`, leaseMs: 10_000 });
      await queue.release({ id: claimed!.id, leaseToken: claimed!.leaseToken }, `w${round}`);
      expect(queue.get(task.id)).toMatchObject({ status: 'pending', attempts: round, maxAttempts: 1, releasedAttempts: round });
    }
    // The one attempt the user allowed is still there: a failure now is final, not a retry.
    const [third] = await queue.claim({ workerId: 'w3', leaseMs: 10_000 });
    expect(third!.attempts).toBe(3);
    await queue.fail({ id: third!.id, leaseToken: third!.leaseToken }, 'boom', 'w3');
    expect(queue.get(task.id)).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 1, releasedAttempts: 2 });
    expect(queue.runs(task.id).map((r) => r.outcome)).toEqual(['released', 'released', 'failed']);
    // An expired lease after a release is judged by the same budget.
    const other = await queue.enqueue('job', {}, { maxAttempts: 2 });
    const [a] = await queue.claim({ workerId: 'w4', leaseMs: 10_000 });
    await queue.release({ id: a!.id, leaseToken: a!.leaseToken }, 'w4');
    await queue.claim({ workerId: 'ghost', leaseMs: 100 });
    await vi.waitFor(async () => expect((await queue.reclaim()).expired).toBe(1));
    expect(queue.get(other.id)).toMatchObject({ status: 'pending', attempts: 2, releasedAttempts: 1, maxAttempts: 2 });
    // An operator retry grants one more attempt that counts: max_attempts grows only then.
    await queue.cancel(other.id);
    await queue.retry(other.id);
    expect(queue.get(other.id)).toMatchObject({ status: 'pending', maxAttempts: 2 });
  });

  it('records progress through ctx.heartbeat', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('report', {});
    const worker = new Worker(queue, async (_p, ctx) => {
      await ctx.heartbeat({ percent: 50 });
      expect(queue.get(ctx.id).progress).toEqual({ percent: 50 });
      return 'done';
    }, { untilEmpty: true });
    await worker.start();
    expect(queue.get(task.id)).toMatchObject({ status: 'succeeded', progress: { percent: 50 }, result: 'done' });
  });
});

describe('the workers table', () => {
  it('the sweep marks a dead worker crashed (when, by whom), keeps ended rows for the retention, then prunes them', async () => {
    const queue = await openTempQueue();
    // Written directly: a worker of this host whose process is gone, and one of another host
    // that crashed long ago but still holds a running task (its lease decides, not the prune).
    const deadPid = spawnSync('true').pid!;
    const insert = queue.db.connection.prepare(
      `INSERT INTO workers (id, pid, host, process_start, queue, started_at, last_seen, crashed_at, crashed_by)
       VALUES (@id, @pid, @host, '1', 'default', 0, 0, @crashedAt, @crashedBy)`,
    );
    insert.run({ id: 'gone', pid: deadPid, host: hostname(), crashedAt: null, crashedBy: null });
    insert.run({ id: 'holder', pid: 1, host: 'elsewhere', crashedAt: 1, crashedBy: 'someone' });
    await queue.enqueue('job', {});
    await queue.claim({ workerId: 'holder', leaseMs: 60_000 });
    await queue.registerWorker({ id: 'graceful', queue: 'default', types: null });
    await queue.stopWorker('graceful');

    const first = await queue.reclaim({ by: 'sweeper' });
    expect(first).toMatchObject({ deadWorkers: ['gone'], pruned: 0 });
    const rows = new Map(queue.workers().map((w) => [w.id, w]));
    expect(rows.get('gone')).toMatchObject({ crashed_by: 'sweeper', stopped_at: null, alive: false });
    expect(rows.get('gone')?.crashed_at).toBeGreaterThan(0);
    expect(rows.get('graceful')).toMatchObject({ crashed_at: null, crashed_by: null, alive: false });
    expect(rows.get('graceful')?.stopped_at).toBeGreaterThan(0);

    expect((await queue.reclaim({ workerRetentionMs: 60_000 })).pruned).toBe(0);
    expect(queue.workers()).toHaveLength(3);
    const second = await queue.reclaim({ workerRetentionMs: 0 });
    expect(second.pruned).toBe(2);
    expect(queue.workers().map((w) => w.id)).toEqual(['holder']);
    // Nothing left to prune: the sweep's fast path writes nothing.
    expect(await queue.reclaim({ workerRetentionMs: 0 })).toMatchObject({ pruned: 0, expired: 0, deadOwner: 0 });
  });

  it('a worker re-registered under the same id is live again', async () => {
    const queue = await openTempQueue();
    await queue.registerWorker({ id: 'w', queue: 'default', types: null });
    await queue.stopWorker('w');
    await queue.registerWorker({ id: 'w', queue: 'default', types: null });
    expect(queue.workers()).toMatchObject([{ id: 'w', stopped_at: null, crashed_at: null, alive: true }]);
  });
});

describe('finishMany', () => {
  it('answers each outcome with the task\'s new status, or the typed refusal of a stale lease', async () => {
    const queue = await openTempQueue();
    await queue.enqueue('a', {});
    await queue.enqueue('b', {}, { maxAttempts: 2, backoff: { baseMs: 60_000 } });
    await queue.enqueue('c', {}, { maxAttempts: 1 });
    await queue.enqueue('d', {});
    const [a, b, c, d] = await queue.claim({ workerId: 'w', leaseMs: 10_000, limit: 4 });
    const lease = (t: typeof a) => ({ id: t!.id, leaseToken: t!.leaseToken });
    await queue.cancel(d!.id);
    const answers = await queue.finishMany([
      { kind: 'complete', lease: lease(a), workerId: 'w', result: 1 },
      { kind: 'fail', lease: lease(b), workerId: 'w', error: 'again' },
      { kind: 'fail', lease: lease(c), workerId: 'w', error: 'for good' },
      { kind: 'complete', lease: lease(d), workerId: 'w', result: 2 },
    ]);
    expect(answers.slice(0, 3)).toEqual(['succeeded', 'pending', 'failed']);
    expect(answers[3]).toMatchObject({ code: 'lease-lost', taskId: d!.id });
  });
});

describe('the store under the queue', () => {
  it('describes itself: engine and its version, location, lock, schema', async () => {
    const queue = await openTempQueue();
    const store = queue.describe();
    expect(store).toMatchObject({ engine: 'sqlite', lock: { strategy: 'flock' }, schemaVersion: SCHEMA_VERSION });
    expect(store.engineVersion).toMatch(/^3\.\d+\.\d+/);
    expect(store.location).toMatch(/\.db$/);
    expect(store.lock.path).toBe(`${store.location}.lock`);
  });

  it('its change signal wakes a waiter on another connection\'s commit', async () => {
    const queue = await openTempQueue();
    const other = await Queue.open(queue.describe().location);
    const signal = queue.changeSignal();
    try {
      const woken = signal.wait(10_000);
      await other.enqueue('x', {});
      expect(await woken).toBe(true);
    } finally {
      signal.close();
      other.close();
    }
  });
});
