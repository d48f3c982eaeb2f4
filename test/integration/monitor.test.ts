import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '@tasklock/core';
import { MONITOR_SQL, SqliteMonitor } from '@tasklock/core/sqlite';
import { closeQueues, openTempQueue, reopen, sqliteOf } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

async function finish(queue: Queue, type: string, how: 'complete' | 'fail', options: { maxAttempts?: number } = {}): Promise<number> {
  const task = await queue.enqueue(type, {}, { queue: `q-${type}-${how}-${Math.random()}`, backoff: { baseMs: 3_600_000 }, ...options });
  const [lease] = await queue.claim({ workerId: 'w-1', queue: task.queue });
  if (how === 'complete') await queue.complete(lease!, null);
  else await queue.fail(lease!, 'boom');
  return task.id;
}

describe('SqliteMonitor (stats --watch)', () => {
  it('reads only the live set and new events each interval (EXPLAIN QUERY PLAN)', async () => {
    const queue = await openTempQueue();
    const plan = (sql: string, params: unknown) =>
      (sqliteOf(queue).connection.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as { detail: string }[]).map((row) => row.detail);
    expect(plan(MONITOR_SQL.live, { now: 0 })).toEqual(['SCAN tasks USING INDEX tasks_claimable', 'USE TEMP B-TREE FOR GROUP BY']);
    expect(plan(MONITOR_SQL.running, {})).toEqual(['SCAN tasks USING INDEX tasks_running_by_lease', 'USE TEMP B-TREE FOR GROUP BY']);
    expect(plan(MONITOR_SQL.events, { after: 0, upto: 1 })).toEqual([
      'SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
      'SEARCH t USING INTEGER PRIMARY KEY (rowid=?)',
      'USE TEMP B-TREE FOR GROUP BY',
    ]);
    expect(plan(MONITOR_SQL.eventAt, [1])).toEqual(['SEARCH task_events USING INTEGER PRIMARY KEY (rowid>?)']);
    expect(plan(MONITOR_SQL.finishCounts, [0])).toEqual(['SEARCH finish_counts USING PRIMARY KEY (second>?)']);
  });

  it('keeps counts equal to stats() while tasks move, finish, retry and are purged', async () => {
    const queue = await openTempQueue();
    const monitor = new SqliteMonitor(sqliteOf(queue), 60_000);
    await queue.enqueue('a', {});
    await queue.enqueue('b', {}, { delayMs: 3_600_000 });
    const first = await monitor.sample();
    expect(first.counts).toEqual((await queue.stats()).counts);
    expect(first.finishedPerSecond).toBeNull();

    await finish(queue, 'a', 'complete');
    await finish(queue, 'a', 'complete');
    const failed = await finish(queue, 'b', 'fail', { maxAttempts: 1 });
    await finish(queue, 'b', 'fail');
    const [lease] = await queue.claim({ workerId: 'w-2' });
    const second = await monitor.sample();
    expect(second.counts).toEqual((await queue.stats()).counts);
    expect(second.byType).toEqual((await queue.stats()).byType);
    expect(second.counts).toMatchObject({ pending: 0, scheduled: 2, running: 1, succeeded: 2, failed: 1 });
    expect(second.finished).toBe(3);
    expect(second.finishedPerSecond).toBeGreaterThan(0);
    expect(second.runningByWorker).toEqual({ 'w-2': 1 });
    expect(second.failuresLastMinute).toEqual({ attempts: 2, final: 1 });

    await queue.complete(lease!, null);
    await queue.retry(failed);
    await queue.cancel(failed);
    const third = await monitor.sample();
    expect(third.counts).toEqual((await queue.stats()).counts);
    expect(third.finished).toBe(1);
    expect(third.runningByWorker).toEqual({});

    // A purge writes no event: the next re-base (here due at every sample) recounts finished tasks.
    const rebasing = new SqliteMonitor(sqliteOf(queue), 0);
    await rebasing.sample();
    expect(await queue.purge({ olderThanMs: 0 })).toBe(4);
    expect((await rebasing.sample()).counts).toEqual((await queue.stats()).counts);
  });

  it('a monitor started later finds the last minute of failures, and none older', async () => {
    const queue = await openTempQueue();
    await finish(queue, 'x', 'fail', { maxAttempts: 1 });
    // Its end, counted (schema 6: ends are counts, not events), moved two minutes back.
    sqliteOf(queue).connection.prepare('UPDATE finish_counts SET second = second - 120').run();
    await finish(queue, 'x', 'fail', { maxAttempts: 1 });
    await finish(queue, 'x', 'fail');
    await finish(queue, 'x', 'complete');
    const sample = await new SqliteMonitor(sqliteOf(queue)).sample();
    expect(sample.failuresLastMinute).toEqual({ attempts: 2, final: 1 });
    expect(sample.counts).toMatchObject({ failed: 2, succeeded: 1, scheduled: 1 });
  });

  it('counts a batch of completions by type, and ends another handle commits', async () => {
    const queue = await openTempQueue();
    const other = await reopen(queue);
    const monitor = new SqliteMonitor(sqliteOf(queue), 60_000);
    await monitor.sample();
    await queue.enqueueMany([{ type: 'a', payload: 1 }, { type: 'b', payload: 2 }, { type: 'a', payload: 3 }]);
    const held = await other.claim({ workerId: 'w', limit: 3 });
    const answers = await other.finishMany(held.map((task) => ({ kind: 'complete' as const, lease: task, workerId: 'w', result: null })));
    expect(answers).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const sample = await monitor.sample();
    expect(sample.finished).toBe(3);
    expect(sample.byType).toEqual((await queue.stats()).byType);
    expect(sample.byType.a!.succeeded).toBe(2);
    expect((await monitor.sample()).finished).toBe(0);
  });

  it('reports the oldest due pending task, not a scheduled one', async () => {
    const queue = await openTempQueue();
    await queue.enqueue('later', {}, { runAt: Date.parse('2030-01-01T00:00:00Z') });
    expect((await new SqliteMonitor(sqliteOf(queue)).sample()).oldestDueAgeMs).toBe(0);
    await queue.enqueue('now', {}, { runAt: Date.now() - 5000 });
    expect((await new SqliteMonitor(sqliteOf(queue)).sample()).oldestDueAgeMs).toBeGreaterThanOrEqual(5000);
  });
});
