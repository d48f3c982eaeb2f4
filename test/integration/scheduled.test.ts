import { afterEach, describe, expect, it } from 'vitest';
import { Worker, type WorkerLogLevel } from '@tasklock/core';
import { closeQueues, openTempQueue } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

const IN_2030 = Date.parse('2030-01-01T00:00:00Z');

function recordingLog() {
  const lines: string[] = [];
  return { lines, log: (level: WorkerLogLevel, message: string) => lines.push(`${level} ${message}`) };
}

describe('scheduled: pending with run_at in the future, a view apart from due pending', () => {
  it('stats counts scheduled apart from pending, overall, by queue and by type', async () => {
    const queue = await openTempQueue();
    await queue.enqueue('later', {}, { runAt: IN_2030, queue: 'q1' });
    await queue.enqueue('now', {}, { queue: 'q1' });
    await queue.enqueue('now', {}, { delayMs: 60_000, queue: 'q2' });
    const stats = queue.stats();
    expect(stats.counts).toEqual({ pending: 1, scheduled: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    expect(stats.byQueue.q1).toMatchObject({ pending: 1, scheduled: 1 });
    expect(stats.byQueue.q2).toMatchObject({ pending: 0, scheduled: 1 });
    expect(stats.byType.later).toMatchObject({ pending: 0, scheduled: 1 });
    expect(stats.byType.now).toMatchObject({ pending: 1, scheduled: 1 });
  });

  it('list filters on scheduled and on due pending; a task keeps its stored status', async () => {
    const queue = await openTempQueue();
    const later = await queue.enqueue('later', {}, { runAt: IN_2030 });
    const now = await queue.enqueue('now', {});
    expect(queue.list({ status: 'scheduled' }).map((t) => t.id)).toEqual([later.id]);
    expect(queue.list({ status: 'pending' }).map((t) => t.id)).toEqual([now.id]);
    expect(queue.list({ status: ['pending', 'scheduled'] }).map((t) => t.id)).toEqual([later.id, now.id]);
    expect(queue.list({ status: 'scheduled' })[0]!.status).toBe('pending');
  });
});

describe('Worker untilEmpty', () => {
  it('stops once nothing is due or running, leaving a task for 2030 scheduled and saying so', async () => {
    const queue = await openTempQueue();
    const later = await queue.enqueue('later', {}, { runAt: IN_2030 });
    const due = await queue.enqueue('now', {});
    const { lines, log } = recordingLog();
    const stats = await new Worker(queue, () => 'done', { untilEmpty: true, log }).start();
    expect(stats).toMatchObject({ claimed: 1, succeeded: 1, scheduled: 1 });
    expect(queue.get(due.id).status).toBe('succeeded');
    expect(queue.get(later.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(lines).toContain('info queue empty: nothing due or running; 1 task(s) scheduled later are left (next at 2030-01-01T00:00:00.000Z)');
  });

  it('waits for a retry due within untilEmptyWaitMs, so a drain finishes failed-then-retried tasks', async () => {
    const queue = await openTempQueue();
    const flaky = await queue.enqueue('flaky', {}, { backoff: { baseMs: 200 } });
    const worker = new Worker(
      queue,
      (_payload, ctx) => {
        if (ctx.attempt === 1) throw new Error('first try fails');
        return 'second try';
      },
      { untilEmpty: true },
    );
    const stats = await worker.start();
    expect(stats).toMatchObject({ claimed: 2, retried: 1, succeeded: 1, scheduled: 0 });
    expect(queue.get(flaky.id)).toMatchObject({ status: 'succeeded', result: 'second try', attempts: 2 });
  });

  it('does not wait for a retry due later than untilEmptyWaitMs: it is left scheduled and counted', async () => {
    const queue = await openTempQueue();
    const flaky = await queue.enqueue('flaky', {}, { backoff: { baseMs: 60_000 } });
    const { lines, log } = recordingLog();
    const stats = await new Worker(queue, () => { throw new Error('fails'); }, { untilEmpty: true, untilEmptyWaitMs: 1000, log }).start();
    expect(stats).toMatchObject({ claimed: 1, retried: 1, scheduled: 1 });
    expect(queue.get(flaky.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(lines.some((line) => /^info queue empty: nothing due or running; 1 task\(s\) scheduled later are left/.test(line))).toBe(true);
  });

  it('counts only its own queue and types as left', async () => {
    const queue = await openTempQueue();
    await queue.enqueue('later', {}, { runAt: IN_2030, queue: 'other' });
    await queue.enqueue('elsewhere', {}, { runAt: IN_2030 });
    const stats = await new Worker(queue, () => 'done', { untilEmpty: true, types: ['mine'] }).start();
    expect(stats).toMatchObject({ claimed: 0, scheduled: 0 });
  });

  it('refuses a negative untilEmptyWaitMs', async () => {
    const queue = await openTempQueue();
    expect(() => new Worker(queue, () => null, { untilEmpty: true, untilEmptyWaitMs: -1 })).toThrow(/untilEmptyWaitMs/);
  });
});
