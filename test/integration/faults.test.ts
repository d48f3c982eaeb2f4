import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker, type Queue } from '@tasklock/core';
import { Database } from '../utils/core-deps.js';
import { closeQueues, openTempQueue, reopen, snapshot, sqliteOf, taskIn, type Placed } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

/**
 * A real SQLITE_FULL at the last step of a transition: the database may not grow
 * (max_page_count = page_count) and a TEMP trigger on the transition's final write inserts
 * ~100 KB, which needs new pages. Everything the transition wrote before must roll back.
 */
function failWithDiskFull(queue: Queue, on: 'event' | 'count' | 'heartbeat' | 'counters' | 'delete' | 'run' | 'worker'): () => void {
  const db = sqliteOf(queue).connection;
  const targets = {
    event: ['AFTER INSERT ON main.task_events'],
    // An end's last write is its count (schema 6): an insert in a new second, an update in the same one.
    count: ['AFTER INSERT ON main.finish_counts', 'AFTER UPDATE ON main.finish_counts'],
    heartbeat: ['AFTER UPDATE OF lease_expires_at ON main.tasks'],
    // ctx.count's deltas: written after the fenced heartbeat or outcome they ride on.
    counters: ['AFTER INSERT ON main.task_counters', 'AFTER UPDATE ON main.task_counters'],
    delete: ['AFTER DELETE ON main.tasks'],
    run: ['AFTER INSERT ON main.task_runs'],
    worker: ['AFTER INSERT ON main.workers'],
  }[on];
  targets.forEach((target, i) =>
    db.exec(`CREATE TEMP TRIGGER fill_disk_${i} ${target} BEGIN
               INSERT INTO main.meta (key, value) VALUES ('filler-' || random(), hex(randomblob(50000)));
             END`),
  );
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  return () => {
    targets.forEach((_, i) => db.exec(`DROP TRIGGER temp.fill_disk_${i}`));
    db.pragma('max_page_count = 1073741823');
  };
}

type Move = { from: Placed['task']['status']; on: 'event' | 'count' | 'heartbeat' | 'counters' | 'delete' | 'run'; run: (q: Queue, p: Placed) => Promise<unknown> };

const MOVES: Record<string, Move> = {
  claim: { from: 'pending', on: 'run', run: (q, p) => q.claim({ workerId: 'w', queue: p.task.queue }) },
  heartbeat: { from: 'running', on: 'heartbeat', run: (q, p) => q.heartbeat(p.lease!, { leaseMs: 60_000, progress: 1 }) },
  complete: { from: 'running', on: 'count', run: (q, p) => q.complete(p.lease!, { big: 'result' }) },
  'heartbeat with counts': { from: 'running', on: 'counters', run: (q, p) => q.heartbeat(p.lease!, { leaseMs: 60_000, progress: 2, counts: { tokens: 5 } }) },
  'complete with a report': {
    from: 'running',
    on: 'counters',
    run: (q, p) => q.finishMany([{ kind: 'complete', lease: p.lease!, workerId: 'w', result: 1, report: { progress: '"done"', counts: [{ name: 'tokens', delta: 5 }] } }]),
  },
  fail: { from: 'running', on: 'count', run: (q, p) => q.fail(p.lease!, 'handler error') },
  release: { from: 'running', on: 'count', run: (q, p) => q.release(p.lease!) },
  cancel: { from: 'running', on: 'event', run: (q, p) => q.cancel(p.task.id) },
  retry: { from: 'failed', on: 'event', run: (q, p) => q.retry(p.task.id) },
  purge: { from: 'succeeded', on: 'delete', run: (q) => q.purge({ olderThanMs: 0 }) },
};

describe('a failed write changes nothing, anywhere', () => {
  for (const [name, move] of Object.entries(MOVES)) {
    it(`${name}: SQLITE_FULL → typed error, prior state in the database and in every view, then succeeds`, async () => {
      const queue = await openTempQueue();
      const other = await reopen(queue);
      const placed = await taskIn(queue, move.from);
      const before = await snapshot(queue, placed.task.id);
      const viewBefore = await queue.get(placed.task.id);
      const lift = failWithDiskFull(queue, move.on);
      const error = await move.run(queue, placed).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'persistence', engineCode: 'SQLITE_FULL' });
      expect(sqliteOf(queue).connection.inTransaction).toBe(false);
      expect(sqliteOf(queue).metrics.busyRetries).toBe(0);
      expect(await snapshot(queue, placed.task.id)).toEqual(before);
      expect(await snapshot(other, placed.task.id)).toEqual(before);
      expect(await queue.get(placed.task.id)).toEqual(viewBefore);
      lift();
      await move.run(queue, placed);
      expect(await snapshot(other, placed.task.id)).not.toEqual(before);
    });
  }

  it('a task id travels with the error of a single-task write', async () => {
    const queue = await openTempQueue();
    const placed = await taskIn(queue, 'running');
    failWithDiskFull(queue, 'count');
    await expect(queue.complete(placed.lease!, 1)).rejects.toMatchObject({ taskId: placed.task.id, message: expect.stringMatching(new RegExp(`task ${placed.task.id}.*SQLITE_FULL`)) });
  });

  it('a failed purge leaves the tasks visible everywhere; a successful one never resurrects', async () => {
    const queue = await openTempQueue();
    const placed = await taskIn(queue, 'succeeded');
    const lift = failWithDiskFull(queue, 'delete');
    await expect(queue.purge({ olderThanMs: 0 })).rejects.toMatchObject({ engineCode: 'SQLITE_FULL' });
    expect((await queue.get(placed.task.id)).status).toBe('succeeded');
    const again = await reopen(queue);
    expect((await again.get(placed.task.id)).status).toBe('succeeded');
    lift();
    expect(await queue.purge({ olderThanMs: 0 })).toBe(1);
    again.close();
    const third = await reopen(queue);
    await expect(third.get(placed.task.id)).rejects.toThrow(/does not exist/);
    expect(await third.list()).toEqual([]);
  });

  for (const [name, move] of Object.entries(MOVES)) {
    it(`${name}: SQLITE_BUSY from an outside writer → retried, then a typed error with nothing written`, async () => {
      const queue = await openTempQueue({ sqlite: { busyTimeoutMs: 0, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } } });
      const placed = await taskIn(queue, move.from);
      const before = await snapshot(queue, placed.task.id);
      const outsider = new Database(queue.describe().location);
      try {
        outsider.exec('BEGIN IMMEDIATE');
        const error = await move.run(queue, placed).then(() => null, (e: unknown) => e);
        expect(error).toMatchObject({ code: 'persistence', engineCode: expect.stringMatching(/^SQLITE_BUSY/) });
        expect((error as Error).message).toMatch(/after 2 attempts/);
        expect(sqliteOf(queue).metrics.busyRetries).toBe(1);
        outsider.exec('ROLLBACK');
      } finally {
        outsider.close();
      }
      expect(await snapshot(queue, placed.task.id)).toEqual(before);
      await move.run(queue, placed);
    });
  }

  it('a worker whose completion cannot be persisted keeps the task running, says so, and finishes once space returns', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('job', {});
    let finishHandler: (() => void) | undefined;
    let ran = 0;
    const worker = new Worker(
      queue,
      () =>
        new Promise((resolve) => {
          ran += 1;
          finishHandler = () => resolve('result');
        }),
      { leaseMs: 2000, heartbeatMs: 100 },
    );
    void worker.start();
    await vi.waitFor(() => expect(finishHandler).toBeDefined());
    const lift = failWithDiskFull(queue, 'count');
    finishHandler!();
    await vi.waitFor(() => expect(worker.stats().persistFailures).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    expect((await queue.get(task.id)).status).toBe('running');
    expect(worker.inFlight).toBe(1);
    lift();
    await vi.waitFor(async () => expect((await queue.get(task.id)).status).toBe('succeeded'), { timeout: 10_000 });
    expect(ran).toBe(1);
    expect(await worker.stop()).toMatchObject({ succeeded: 1, rejected: 0 });
  });

  it('a worker started while the disk is full waits, says so, and starts once space returns', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('job', {});
    const lift = failWithDiskFull(queue, 'worker');
    const logged: string[] = [];
    const worker = new Worker(queue, () => 'done', { id: 'patient', log: (_level, message) => logged.push(message) });
    const done = worker.start();
    await vi.waitFor(() => expect(worker.stats().storeRetries).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    // One line for the outage, not one per failed try.
    expect(logged.filter((m) => m.startsWith('lost the store'))).toEqual([expect.stringMatching(/SQLITE_FULL.*retrying with backoff$/)]);
    expect((await queue.workers()).map((w) => w.id)).not.toContain('patient');
    expect((await queue.get(task.id)).status).toBe('pending');
    lift();
    await vi.waitFor(async () => expect((await queue.get(task.id)).status).toBe('succeeded'), { timeout: 10_000 });
    await worker.stop();
    expect(await done).toMatchObject({ succeeded: 1, storeOutages: 1 });
    expect(logged.filter((m) => m.startsWith('lost the store'))).toHaveLength(1);
    expect(logged.filter((m) => m.startsWith('store reachable again'))).toEqual([expect.stringMatching(/^store reachable again after \d+\.\d s, \d+ attempts$/)]);
  });

  it('a worker stopped before it could register returns at once, having written nothing', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('job', {});
    failWithDiskFull(queue, 'worker');
    let ran = 0;
    const logged: string[] = [];
    const worker = new Worker(queue, () => (ran += 1), { id: 'never', log: (_level, message) => logged.push(message) });
    const done = worker.start();
    await vi.waitFor(() => expect(logged.some((m) => m.startsWith('lost the store'))).toBe(true));
    await worker.stop();
    expect(await done).toMatchObject({ claimed: 0 });
    expect(ran).toBe(0);
    expect((await queue.workers()).map((w) => w.id)).not.toContain('never');
    expect((await queue.get(task.id)).status).toBe('pending');
  });
});
