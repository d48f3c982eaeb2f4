import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '@tasklock/core';
import { closeQueues, openTempQueue, replayStatus, taskIn } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

/** Every row of every task table: what a dry run must leave exactly as it was. */
function wholeDatabase(queue: Queue) {
  const db = queue.db.connection;
  return ['tasks', 'task_runs', 'task_events'].map((table) => db.prepare(`SELECT * FROM ${table} ORDER BY id`).all());
}

async function failedTask(queue: Queue, type: string): Promise<number> {
  const task = await queue.enqueue(type, {}, { maxAttempts: 1, queue: `q-${type}` });
  const [lease] = await queue.claim({ workerId: 'w', queue: task.queue });
  await queue.fail(lease!, 'boom');
  return task.id;
}

describe('cancelMany / retryMany', () => {
  it('by ids: moves what can move, each with its event, and reports the rest with reasons', async () => {
    const queue = await openTempQueue();
    const pending = await taskIn(queue, 'pending');
    const running = await taskIn(queue, 'running');
    const succeeded = await taskIn(queue, 'succeeded');
    const result = await queue.cancelMany([pending.task.id, running.task.id, succeeded.task.id, 999], { reason: 'bulk' });
    expect(result).toEqual({
      dryRun: false,
      changed: [pending.task.id, running.task.id],
      skipped: [
        { id: succeeded.task.id, reason: 'invalid-transition', status: 'succeeded' },
        { id: 999, reason: 'not-found', status: null },
      ],
      transactions: 1,
    });
    for (const placed of [pending, running]) {
      expect(queue.get(placed.task.id).status).toBe('cancelled');
      expect(replayStatus(queue, placed.task.id)).toBe('cancelled');
      expect(queue.events(placed.task.id).at(-1)).toMatchObject({ transition: 'cancel', detail: 'bulk' });
    }
    // The running attempt's run is closed as a single cancel closes it.
    expect(queue.runs(running.task.id)).toMatchObject([{ outcome: 'cancelled', error: 'bulk' }]);
    expect(queue.get(succeeded.task.id).status).toBe('succeeded');
  });

  it('by filter: only the matching tasks, in transactions of batchSize, each as a single retry would', async () => {
    const queue = await openTempQueue();
    const mail = [await failedTask(queue, 'mail'), await failedTask(queue, 'mail'), await failedTask(queue, 'mail')];
    const other = await failedTask(queue, 'sms');
    const cancelled = await taskIn(queue, 'cancelled', 'mail');
    const result = await queue.retryMany({ type: 'mail', status: 'failed' }, { batchSize: 2 });
    expect(result).toEqual({ dryRun: false, changed: mail, skipped: [], transactions: 2 });
    for (const id of mail) {
      expect(queue.get(id)).toMatchObject({ status: 'pending', maxAttempts: 2 });
      expect(queue.events(id).at(-1)).toMatchObject({ transition: 'retry', from_status: 'failed', to_status: 'pending' });
    }
    expect(queue.get(other).status).toBe('failed');
    expect(queue.get(cancelled.task.id).status).toBe('cancelled');
  });

  it('a filter without statuses takes every status the move starts from; others are refused', async () => {
    const queue = await openTempQueue();
    const pending = await queue.enqueue('job', {});
    const scheduled = await queue.enqueue('job', {}, { delayMs: 3_600_000 });
    const running = await taskIn(queue, 'running', 'job');
    const done = await taskIn(queue, 'succeeded', 'job');
    expect((await queue.cancelMany({ type: 'job' }, { dryRun: true })).changed).toEqual([pending.id, scheduled.id, running.task.id]);
    expect((await queue.cancelMany({ status: 'scheduled' })).changed).toEqual([scheduled.id]);
    await expect(queue.cancelMany({ status: ['pending', 'succeeded'] })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/cannot cancel succeeded tasks/) });
    await expect(queue.retryMany({ status: 'pending' })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(queue.cancelMany({ status: 'done' as never })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(queue.cancelMany([0])).rejects.toMatchObject({ code: 'bad-input' });
    await expect(queue.cancelMany([1], { batchSize: 0 })).rejects.toMatchObject({ code: 'bad-input' });
    expect(queue.get(done.task.id).status).toBe('succeeded');
  });

  it('a page is re-checked in its transaction: a task that left the filter after it was found is not moved', async () => {
    const queue = await openTempQueue();
    const ids = (await queue.enqueueMany([1, 2, 3].map((n) => ({ type: 'x', payload: n })))).map((t) => t.id);
    // cancelMany reads its first page before it waits for the write lock; this lands in between.
    const cancelling = queue.cancelMany({ type: 'x' });
    queue.db.connection.prepare("UPDATE tasks SET type = 'y' WHERE id = ?").run(ids[1]);
    expect((await cancelling).changed).toEqual([ids[0], ids[2]]);
    expect(queue.get(ids[1]!).status).toBe('pending');
  });

  it('olderThanMs: only tasks last updated at least that long ago', async () => {
    const queue = await openTempQueue();
    const old = await queue.enqueue('job', {});
    queue.db.connection.prepare('UPDATE tasks SET updated_at = updated_at - 3600000 WHERE id = ?').run(old.id);
    const fresh = await queue.enqueue('job', {});
    const result = await queue.cancelMany({ olderThanMs: 60_000 });
    expect(result.changed).toEqual([old.id]);
    expect(queue.get(fresh.id).status).toBe('pending');
  });

  it('a dry run reports the same set and changes nothing, ids and filter alike', async () => {
    const queue = await openTempQueue();
    const ids = (await queue.enqueueMany(Array.from({ length: 7 }, (_, i) => ({ type: i % 2 ? 'a' : 'b', payload: i })))).map((t) => t.id);
    const done = await taskIn(queue, 'succeeded', 'a');
    const before = wholeDatabase(queue);
    const byFilter = await queue.cancelMany({ type: 'a' }, { dryRun: true, batchSize: 2 });
    const byIds = await queue.cancelMany([...ids, done.task.id], { dryRun: true });
    expect(wholeDatabase(queue)).toEqual(before);
    expect(byFilter).toEqual({ dryRun: true, changed: ids.filter((_, i) => i % 2), skipped: [], transactions: 0 });
    expect(byIds).toMatchObject({ dryRun: true, changed: ids, skipped: [{ id: done.task.id, reason: 'invalid-transition', status: 'succeeded' }] });
    // What the dry run announced is what the real run does.
    expect((await queue.cancelMany({ type: 'a' })).changed).toEqual(byFilter.changed);
  });

  it('a bulk of thousands is split into bounded transactions and moves every task once', async () => {
    const queue = await openTempQueue();
    const count = 3200;
    await queue.enqueueMany(Array.from({ length: count }, (_, i) => ({ type: 'bulk', payload: i })));
    const before = queue.db.metricsSnapshot().transactions;
    const result = await queue.cancelMany({ type: 'bulk' }, { reason: 'spring cleaning' });
    expect(result.changed).toHaveLength(count);
    expect(new Set(result.changed).size).toBe(count);
    // 500 per transaction (the default): 7 transactions, and 7 write transactions on the metrics.
    expect(result.transactions).toBe(Math.ceil(count / 500));
    expect(queue.db.metricsSnapshot().transactions - before).toBe(result.transactions);
    expect(queue.stats().counts).toMatchObject({ pending: 0, cancelled: count });
    const events = queue.db.connection.prepare("SELECT count(*) AS n FROM task_events WHERE transition = 'cancel'").get() as { n: number };
    expect(events.n).toBe(count);
    const ids = await queue.retryMany(result.changed.slice(0, 1200), { batchSize: 400 });
    expect(ids).toMatchObject({ transactions: 3, skipped: [] });
    expect(ids.changed).toHaveLength(1200);
  });
});

describe('listPage', () => {
  it('pages through a changing table with no gap or repeat, oldest or newest first', async () => {
    const queue = await openTempQueue();
    await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: i % 3 === 0 ? 'x' : 'y', payload: i })));
    const initial = queue.list({ type: 'x', limit: 1000 }).map((t) => t.id);
    for (const order of ['asc', 'desc'] as const) {
      const seen: number[] = [];
      let afterId: number | undefined;
      for (;;) {
        const page = queue.listPage({ type: 'x', limit: 4, order, afterId });
        seen.push(...page.tasks.map((t) => t.id));
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
    const queue = await openTempQueue();
    await queue.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ type: 'x', payload: i })));
    expect(queue.listPage({ limit: 2 })).toMatchObject({ next: 2 });
    expect(queue.listPage({ limit: 2, afterId: 2 })).toMatchObject({ next: null });
    expect(queue.listPage({ limit: 2, order: 'desc' }).tasks.map((t) => t.id)).toEqual([4, 3]);
    expect(queue.listPage({ limit: 2, order: 'desc', afterId: 3 })).toMatchObject({ next: null });
    expect(() => queue.listPage({ order: 'sideways' as never })).toThrow(/order must be asc or desc/);
    expect(() => queue.listPage({ status: [] })).toThrow(/status/);
  });
});
