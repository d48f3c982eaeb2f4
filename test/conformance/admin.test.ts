import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type Queue } from '@tasklock/core';
import { replayStatus, snapshot, taskIn } from '../utils/lifecycle.js';
import { forEachStore, untilPast } from './stores.js';

async function failedTask(queue: Queue, type: string): Promise<number> {
  const task = await queue.enqueue(type, {}, { maxAttempts: 1, queue: `q-${type}` });
  const [lease] = await queue.claim({ workerId: 'w', queue: task.queue });
  await queue.fail(lease!, 'boom');
  return task.id;
}

/** Every task with its runs and events, through the queue: what a dry run must leave exactly as it was. */
async function everything(queue: Queue) {
  const tasks = await queue.list({ limit: 100_000 });
  return Promise.all(tasks.map((task) => snapshot(queue, task.id)));
}

forEachStore((store) => {
  describe('cancel / retry one task', () => {
    it('cancel records its reason on the event, and on the run of a running attempt, whose holder then loses its lease', async () => {
      const queue = await store.open();
      const pending = await queue.enqueue('job', {}, { queue: 'a' });
      const scheduled = await queue.enqueue('job', {}, { queue: 'a', delayMs: 3_600_000 });
      const running = await queue.enqueue('job', {}, { queue: 'b' });
      const [held] = await queue.claim({ workerId: 'w', queue: 'b' });
      const cancelled = await queue.cancel(pending.id, 'not needed');
      expect(cancelled).toMatchObject({ id: pending.id, status: 'cancelled' });
      expect(cancelled.finishedAt).not.toBeNull();
      expect((await queue.events(pending.id)).at(-1)).toMatchObject({ transition: 'cancel', from_status: 'pending', to_status: 'cancelled', detail: 'not needed' });
      expect(await queue.runs(pending.id)).toEqual([]);
      expect((await queue.cancel(scheduled.id)).status).toBe('cancelled');
      expect((await queue.events(scheduled.id)).at(-1)).toMatchObject({ transition: 'cancel', detail: null });
      await queue.cancel(running.id, 'operator said so');
      expect(await queue.get(running.id)).toMatchObject({ status: 'cancelled', leaseExpiresAt: null, lockedBy: null });
      expect(await queue.runs(running.id)).toMatchObject([{ outcome: 'cancelled', error: 'operator said so' }]);
      expect((await queue.events(running.id)).at(-1)).toMatchObject({ transition: 'cancel', from_status: 'running', worker_id: 'w', attempt: 1 });
      await expect(queue.heartbeat(held!, { leaseMs: 60_000 })).rejects.toMatchObject({ code: 'lease-lost', taskId: running.id, currentStatus: 'cancelled' });
      await expect(queue.cancel(running.id)).rejects.toMatchObject({ code: 'invalid-transition', taskId: running.id, from: 'cancelled', transition: 'cancel' });
    });

    it('retry makes a failed task due now with one more attempt, keeping its history', async () => {
      const queue = await store.open();
      const id = await failedTask(queue, 'mail');
      const before = Date.now();
      const retried = await queue.retry(id);
      expect(retried).toMatchObject({ status: 'pending', attempts: 1, maxAttempts: 2, finishedAt: null });
      expect(retried.runAt).toBeGreaterThanOrEqual(before);
      expect(retried.runAt).toBeLessThanOrEqual(Date.now());
      expect((await queue.events(id)).at(-1)).toMatchObject({ transition: 'retry', from_status: 'failed', to_status: 'pending' });
      const [again] = await queue.claim({ workerId: 'w', queue: 'q-mail' });
      expect(again).toMatchObject({ id, attempts: 2 });
      await queue.fail(again!, 'still broken');
      expect(await queue.get(id)).toMatchObject({ status: 'failed', attempts: 2, lastError: 'still broken' });
      expect((await queue.runs(id)).map((r) => r.outcome)).toEqual(['failed', 'failed']);
      await expect(queue.retry(424242)).rejects.toMatchObject({ code: 'task-not-found', taskId: 424242 });
    });
  });

  describe('cancelMany / retryMany', () => {
    it('by ids: moves what can move, each with its event, and reports the rest with reasons', async () => {
      const queue = await store.open();
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
        expect((await queue.get(placed.task.id)).status).toBe('cancelled');
        expect(await replayStatus(queue, placed.task.id)).toBe('cancelled');
        expect((await queue.events(placed.task.id)).at(-1)).toMatchObject({ transition: 'cancel', detail: 'bulk' });
      }
      // The running attempt's run is closed as a single cancel closes it.
      expect(await queue.runs(running.task.id)).toMatchObject([{ outcome: 'cancelled', error: 'bulk' }]);
      expect((await queue.get(succeeded.task.id)).status).toBe('succeeded');
    });

    it('by filter: only the matching tasks, in transactions of batchSize, each as a single retry would', async () => {
      const queue = await store.open();
      const mail = [await failedTask(queue, 'mail'), await failedTask(queue, 'mail'), await failedTask(queue, 'mail')];
      const other = await failedTask(queue, 'sms');
      const cancelled = await taskIn(queue, 'cancelled', 'mail');
      const result = await queue.retryMany({ type: 'mail', status: 'failed' }, { batchSize: 2 });
      expect(result).toEqual({ dryRun: false, changed: mail, skipped: [], transactions: 2 });
      for (const id of mail) {
        expect(await queue.get(id)).toMatchObject({ status: 'pending', maxAttempts: 2 });
        expect((await queue.events(id)).at(-1)).toMatchObject({ transition: 'retry', from_status: 'failed', to_status: 'pending' });
      }
      expect((await queue.get(other)).status).toBe('failed');
      expect((await queue.get(cancelled.task.id)).status).toBe('cancelled');
    });

    it('a filter without statuses takes every status the move starts from; others are refused', async () => {
      const queue = await store.open();
      const pending = await queue.enqueue('job', {});
      const scheduled = await queue.enqueue('job', {}, { delayMs: 3_600_000 });
      const running = await taskIn(queue, 'running', 'job');
      const done = await taskIn(queue, 'succeeded', 'job');
      expect((await queue.cancelMany({ type: 'job' }, { dryRun: true })).changed).toEqual([pending.id, scheduled.id, running.task.id]);
      expect((await queue.cancelMany({ status: 'scheduled' })).changed).toEqual([scheduled.id]);
      expect((await queue.get(scheduled.id)).status).toBe('cancelled');
      expect((await queue.get(pending.id)).status).toBe('pending');
      await expect(queue.cancelMany({ status: ['pending', 'succeeded'] })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/cannot cancel succeeded tasks/) });
      await expect(queue.retryMany({ status: 'pending' })).rejects.toMatchObject({ code: 'bad-input' });
      await expect(queue.cancelMany({ status: 'done' as never })).rejects.toMatchObject({ code: 'bad-input' });
      await expect(queue.cancelMany([0])).rejects.toMatchObject({ code: 'bad-input' });
      await expect(queue.cancelMany([1], { batchSize: 0 })).rejects.toMatchObject({ code: 'bad-input' });
      expect((await queue.get(done.task.id)).status).toBe('succeeded');
      // retryMany without statuses: failed and cancelled alike.
      const failed = await taskIn(queue, 'failed', 'job');
      expect((await queue.retryMany({ type: 'job' }, { dryRun: true })).changed).toEqual([scheduled.id, failed.task.id]);
    });

    it('olderThanMs: only tasks last updated at least that long ago', async () => {
      const queue = await store.open();
      const old = await queue.enqueue('job', {});
      // Waiting for the clock: `old` is then last updated more than 500 ms ago.
      await untilPast(old.updatedAt + 500, 'half a second after the first enqueue');
      const fresh = await queue.enqueue('job', {});
      const result = await queue.cancelMany({ olderThanMs: 500 });
      expect(result.changed).toEqual([old.id]);
      expect((await queue.get(fresh.id)).status).toBe('pending');
      expect((await queue.get(old.id)).status).toBe('cancelled');
    });

    it('a dry run reports the same set and changes nothing, ids and filter alike', async () => {
      const queue = await store.open();
      const ids = (await queue.enqueueMany(Array.from({ length: 7 }, (_, i) => ({ type: i % 2 ? 'a' : 'b', payload: i })))).map((t) => t.id);
      const done = await taskIn(queue, 'succeeded', 'a');
      const before = await everything(queue);
      expect(before).toHaveLength(8);
      const byFilter = await queue.cancelMany({ type: 'a' }, { dryRun: true, batchSize: 2 });
      const byIds = await queue.cancelMany([...ids, done.task.id], { dryRun: true });
      const retryDry = await queue.retryMany([done.task.id], { dryRun: true });
      expect(await everything(queue)).toEqual(before);
      expect(byFilter).toEqual({ dryRun: true, changed: ids.filter((_, i) => i % 2), skipped: [], transactions: 0 });
      expect(byIds).toMatchObject({ dryRun: true, changed: ids, skipped: [{ id: done.task.id, reason: 'invalid-transition', status: 'succeeded' }] });
      expect(retryDry).toEqual({ dryRun: true, changed: [], skipped: [{ id: done.task.id, reason: 'invalid-transition', status: 'succeeded' }], transactions: 0 });
      // What the dry run announced is what the real run does.
      expect((await queue.cancelMany({ type: 'a' })).changed).toEqual(byFilter.changed);
    });

    it('a bulk of thousands is split into bounded transactions and moves every task once', async () => {
      const queue = await store.open();
      const count = 3200;
      await queue.enqueueMany(Array.from({ length: count }, (_, i) => ({ type: 'bulk', payload: i })));
      const before = queue.writeMetrics().transactions;
      const result = await queue.cancelMany({ type: 'bulk' }, { reason: 'spring cleaning' });
      expect(result.changed).toHaveLength(count);
      expect(new Set(result.changed).size).toBe(count);
      // 500 per transaction (the default): 7 transactions, and 7 write transactions on the metrics.
      expect(result.transactions).toBe(Math.ceil(count / 500));
      expect(queue.writeMetrics().transactions - before).toBe(result.transactions);
      expect((await queue.stats()).counts).toMatchObject({ pending: 0, cancelled: count });
      let cancels = 0;
      for (const id of result.changed) {
        const events = await queue.events(id);
        cancels += events.filter((e) => e.transition === 'cancel').length;
        expect(events.at(-1)).toMatchObject({ transition: 'cancel', detail: 'spring cleaning' });
      }
      expect(cancels).toBe(count);
      const ids = await queue.retryMany(result.changed.slice(0, 1200), { batchSize: 400 });
      expect(ids).toMatchObject({ transactions: 3, skipped: [] });
      expect(ids.changed).toHaveLength(1200);
      expect((await queue.stats()).counts).toMatchObject({ pending: 1200, cancelled: count - 1200 });
    });
  });

  describe('purge', () => {
    it('deletes only old terminal tasks, with their runs and events', async () => {
      const queue = await store.open();
      const placed = await Promise.all(TASK_STATUSES.map((status) => taskIn(queue, status)));
      await expect(queue.purge({ olderThanMs: 0, statuses: ['running'] })).rejects.toMatchObject({ code: 'bad-input' });
      await expect(queue.purge({ olderThanMs: -1 })).rejects.toMatchObject({ code: 'bad-input' });
      expect(await queue.purge({ olderThanMs: 60_000 })).toBe(0);
      expect(await queue.purge({ olderThanMs: 0 })).toBe(3);
      const left = (await queue.list()).map((t) => t.status).sort();
      expect(left).toEqual(['pending', 'running']);
      for (const p of placed) {
        const id = p.task.id;
        if (p.task.status === 'pending' || p.task.status === 'running') {
          expect((await queue.store.events(id)).length).toBeGreaterThan(0);
          continue;
        }
        expect(await snapshot(queue, id)).toEqual({ task: null, runs: [], events: [] });
        await expect(queue.get(id)).rejects.toMatchObject({ code: 'task-not-found', taskId: id });
        // The queue answers task-not-found for a gone task's history; the store shows it is gone too.
        await expect(queue.runs(id)).rejects.toMatchObject({ code: 'task-not-found', taskId: id });
        expect(await queue.store.runs(id)).toEqual([]);
        expect(await queue.store.events(id)).toEqual([]);
      }
      const running = placed.find((p) => p.task.status === 'running')!.task.id;
      expect(await queue.store.runs(running)).toHaveLength(1);
    });

    it('purges only the statuses asked for', async () => {
      const queue = await store.open();
      const failed = await taskIn(queue, 'failed');
      const succeeded = await taskIn(queue, 'succeeded');
      const cancelled = await taskIn(queue, 'cancelled');
      expect(await queue.purge({ olderThanMs: 0, statuses: ['failed'] })).toBe(1);
      await expect(queue.get(failed.task.id)).rejects.toMatchObject({ code: 'task-not-found', taskId: failed.task.id });
      expect((await queue.get(succeeded.task.id)).status).toBe('succeeded');
      expect((await queue.get(cancelled.task.id)).status).toBe('cancelled');
    });
  });

  describe('stats', () => {
    it('counts every status overall, by queue and by type, and describes its store', async () => {
      const queue = await store.open();
      for (const status of TASK_STATUSES) await taskIn(queue, status, status === 'failed' ? 'other' : 'job');
      await queue.enqueue('job', {}, { delayMs: 3_600_000, queue: 'later' });
      const stats = await queue.stats();
      expect(stats.counts).toEqual({ pending: 1, scheduled: 1, running: 1, succeeded: 1, failed: 1, cancelled: 1 });
      expect(stats.byType.job).toEqual({ pending: 1, scheduled: 1, running: 1, succeeded: 1, failed: 0, cancelled: 1 });
      expect(stats.byType.other).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: 0, failed: 1, cancelled: 0 });
      expect(stats.byQueue.later).toEqual({ pending: 0, scheduled: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
      expect(Object.keys(stats.byQueue)).toHaveLength(6);
      expect(stats.overdueLeases).toBe(0);
      expect(stats.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
      expect(stats.store).toEqual(queue.describe());
      expect(stats.store.engine).toBe(store.name);
      expect(stats.workers).toEqual({ live: 0, total: 0 });
    });

    it('oldestPendingAgeMs is how long the oldest due task has waited', async () => {
      const queue = await store.open();
      expect((await queue.stats()).oldestPendingAgeMs).toBe(0);
      const now = Date.now();
      await queue.enqueue('job', {}, { runAt: now - 60_000 });
      await queue.enqueue('job', {}, { runAt: now - 1000 });
      await queue.enqueue('job', {}, { runAt: now + 3_600_000 });
      const age = (await queue.stats()).oldestPendingAgeMs;
      expect(age).toBeGreaterThanOrEqual(60_000);
      expect(age).toBeLessThan(60_000 + (Date.now() - now) + 1);
    });
  });

  describe('the workers table', () => {
    it('a registered worker is live; stopped, it is ended, kept for the retention, then pruned unless it still holds a task', async () => {
      const queue = await store.open();
      await queue.registerWorker({ id: 'graceful', queue: 'default', types: null, deadAfterMs: 30_000 });
      await queue.registerWorker({ id: 'holder', queue: 'default', types: ['job'], deadAfterMs: 30_000 });
      expect((await queue.workers()).map((w) => w.id).sort()).toEqual(['graceful', 'holder']);
      expect((await queue.workers()).find((w) => w.id === 'holder')).toMatchObject({ alive: true, stopped_at: null, crashed_at: null, queue: 'default', types: '["job"]' });
      expect((await queue.stats()).workers).toEqual({ live: 2, total: 2 });
      const task = await queue.enqueue('job', {});
      await queue.claim({ workerId: 'holder', leaseMs: 60_000 });
      await queue.stopWorker('graceful');
      await queue.stopWorker('holder');
      const rows = new Map((await queue.workers()).map((w) => [w.id, w]));
      expect(rows.get('graceful')).toMatchObject({ crashed_at: null, crashed_by: null, alive: false });
      expect(rows.get('graceful')?.stopped_at).toBeGreaterThan(0);
      expect((await queue.stats()).workers).toEqual({ live: 0, total: 2 });

      expect((await queue.reclaim({ workerRetentionMs: 60_000 })).pruned).toBe(0);
      expect(await queue.workers()).toHaveLength(2);
      // The holder's row stays while its task runs (its lease decides, not the prune).
      expect(await queue.reclaim({ workerRetentionMs: 0 })).toMatchObject({ pruned: 1, leaseExpired: 0, deadOwner: 0 });
      expect((await queue.workers()).map((w) => w.id)).toEqual(['holder']);
      expect((await queue.get(task.id)).status).toBe('running');
      // Nothing left to prune.
      expect(await queue.reclaim({ workerRetentionMs: 0 })).toMatchObject({ pruned: 0, leaseExpired: 0, deadOwner: 0 });
      await expect(queue.reclaim({ workerRetentionMs: -1 })).rejects.toMatchObject({ code: 'bad-input' });
    });

    it('a worker re-registered under the same id is live again', async () => {
      const queue = await store.open();
      await queue.registerWorker({ id: 'w', queue: 'default', types: null, deadAfterMs: 30_000 });
      await queue.stopWorker('w');
      expect((await queue.workers())[0]).toMatchObject({ id: 'w', alive: false });
      await queue.registerWorker({ id: 'w', queue: 'default', types: null, deadAfterMs: 30_000 });
      expect(await queue.workers()).toMatchObject([{ id: 'w', stopped_at: null, crashed_at: null, alive: true }]);
    });
  });
});
