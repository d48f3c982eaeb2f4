// The SQLite store's own behaviour under the queue: its query plans, rows written behind the
// queue's back, and the moments between its read and its write transaction. What every store
// must do is in test/conformance/ (run there against SQLite too); only what needs the engine
// itself is here.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { CLAIM_CANDIDATES_SQL, HOT_PATH_SQL, SCHEMA_VERSION } from '@tasklock/core/sqlite';
import { closeQueues, openTempQueue, sqliteOf } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

describe('claim', () => {
  it('uses the partial index in claim order (no table scan, no sort)', async () => {
    const queue = await openTempQueue();
    const plan = sqliteOf(queue)
      .connection.prepare(`EXPLAIN QUERY PLAN ${CLAIM_CANDIDATES_SQL}`)
      .all({ queue: 'default', now: Date.now(), types: null, limit: 32 }) as { detail: string }[];
    const text = plan.map((row) => row.detail).join('\n');
    expect(text).toContain('USING INDEX tasks_claimable');
    expect(text).not.toMatch(/TEMP B-TREE|SCAN tasks/);
  });
});

describe('a batch of completions', () => {
  it('walks the batch and finds each task and run by its key (no scan of tasks or task_runs)', async () => {
    const queue = await openTempQueue();
    const plan = (sql: string, params: object) =>
      (sqliteOf(queue).connection.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail).join('\n');
    const tasks = plan(HOT_PATH_SQL.completeMany, { done: '[[1,"t","null"]]', now: 0 });
    expect(tasks).toMatch(/SEARCH tasks USING INTEGER PRIMARY KEY/);
    expect(tasks).not.toMatch(/SCAN tasks/);
    const runs = plan(HOT_PATH_SQL.closeRuns, { closed: '[[1,1]]', now: 0, outcome: 'succeeded', finishedBy: 'w' });
    expect(runs).toMatch(/SEARCH task_runs USING (INDEX|PRIMARY KEY).*\(task_id=\? AND attempt=\?\)/);
    expect(runs).not.toMatch(/SCAN task_runs/);
  });
});

describe('the event log (schemas 4 and 6)', () => {
  it('enqueue, claims and run ends write their task or run row and no event row; the log derives them, in order', async () => {
    const queue = await openTempQueue();
    const task = await queue.enqueue('job', {}, { backoff: { baseMs: 0 }, maxAttempts: 5 });
    const [first] = await queue.claim({ workerId: 'w1' });
    await queue.fail(first!, 'boom\n  at line 2', 'w1');
    const [second] = await queue.claim({ workerId: 'w2' });
    await queue.release(second!, 'w2');
    const [third] = await queue.claim({ workerId: 'w3' });
    await queue.complete(third!, 'ok', 'api');
    const db = sqliteOf(queue).connection;
    const stored = db.prepare('SELECT transition FROM task_events WHERE task_id = ? ORDER BY id').pluck().all(task.id);
    expect(stored).toEqual([]);
    const runs = await queue.runs(task.id);
    expect(runs.map((r) => [r.worker_id, r.finished_by])).toEqual([['w1', null], ['w2', null], ['w3', 'api']]);
    const log = await queue.events(task.id);
    expect(log.map((e) => [e.transition, e.from_status, e.to_status, e.attempt, e.worker_id, e.detail])).toEqual([
      ['enqueue', null, 'pending', 0, null, null],
      ['claim', 'pending', 'running', 1, 'w1', null],
      ['fail', 'running', 'pending', 1, 'w1', 'boom'],
      ['claim', 'pending', 'running', 2, 'w2', null],
      ['release', 'running', 'pending', 2, 'w2', 'worker shut down before the task finished'],
      ['claim', 'pending', 'running', 3, 'w3', null],
      ['complete', 'running', 'succeeded', 3, 'api', null],
    ]);
    // A derived event has no id of its own; the enqueue is at the task's creation, a claim at its
    // run's start, an end at its finish.
    expect(log[0]).toMatchObject({ id: null, at: (await queue.get(task.id)).createdAt });
    expect(log.filter((e) => e.transition === 'claim').map((e) => [e.id, e.at])).toEqual(runs.map((r) => [null, r.started_at]));
    expect(log.filter((e) => ['fail', 'release', 'complete'].includes(e.transition)).map((e) => [e.id, e.at])).toEqual(runs.map((r) => [null, r.finished_at]));
    // Every end is counted for the live view, by type and outcome.
    expect(db.prepare('SELECT type, outcome, sum(count) AS n FROM finish_counts GROUP BY 1, 2 ORDER BY 2').all()).toEqual([
      { type: 'job', outcome: 'released', n: 1 },
      { type: 'job', outcome: 'retry', n: 1 },
      { type: 'job', outcome: 'succeeded', n: 1 },
    ]);
  });
});

describe('the workers table', () => {
  it('the sweep marks a dead worker crashed (when, by whom), keeps ended rows for the retention, then prunes them', async () => {
    const queue = await openTempQueue();
    // Written directly: a worker of this host whose process is gone, and one of another host
    // that crashed long ago but still holds a running task (its lease decides, not the prune).
    const deadPid = spawnSync('true').pid!;
    const insert = sqliteOf(queue).connection.prepare(
      `INSERT INTO workers (id, pid, host, process_start, queue, started_at, last_seen, crashed_at, crashed_by)
       VALUES (@id, @pid, @host, '1', 'default', 0, 0, @crashedAt, @crashedBy)`,
    );
    await sqliteOf(queue).write(() => {
      insert.run({ id: 'gone', pid: deadPid, host: hostname(), crashedAt: null, crashedBy: null });
      insert.run({ id: 'holder', pid: 1, host: 'elsewhere', crashedAt: 1, crashedBy: 'someone' });
    });
    await queue.enqueue('job', {});
    await queue.claim({ workerId: 'holder', leaseMs: 60_000 });
    await queue.registerWorker({ id: 'graceful', queue: 'default', types: null, deadAfterMs: 30_000 });
    await queue.stopWorker('graceful');

    const first = await queue.reclaim({ by: 'sweeper' });
    expect(first).toMatchObject({ deadWorkers: ['gone'], pruned: 0 });
    const rows = new Map((await queue.workers()).map((w) => [w.id, w]));
    expect(rows.get('gone')).toMatchObject({ crashed_by: 'sweeper', stopped_at: null, alive: false });
    expect(rows.get('gone')?.crashed_at).toBeGreaterThan(0);
    expect(rows.get('graceful')).toMatchObject({ crashed_at: null, crashed_by: null, alive: false });
    expect(rows.get('graceful')?.stopped_at).toBeGreaterThan(0);

    expect((await queue.reclaim({ workerRetentionMs: 60_000 })).pruned).toBe(0);
    expect(await queue.workers()).toHaveLength(3);
    const second = await queue.reclaim({ workerRetentionMs: 0 });
    expect(second.pruned).toBe(2);
    expect((await queue.workers()).map((w) => w.id)).toEqual(['holder']);
    // Nothing left to prune: the sweep's fast path writes nothing.
    const transactions = queue.writeMetrics().transactions;
    expect(await queue.reclaim({ workerRetentionMs: 0 })).toMatchObject({ pruned: 0, leaseExpired: 0, deadOwner: 0 });
    expect(queue.writeMetrics().transactions).toBe(transactions);
  });
});

describe('cancelMany / retryMany', () => {
  it('a page is re-checked in its transaction: a task that left the filter after it was found is not moved', async () => {
    const queue = await openTempQueue();
    const ids = (await queue.enqueueMany([1, 2, 3].map((n) => ({ type: 'x', payload: n })))).map((t) => t.id);
    // cancelMany reads its first page before it waits for the write lock; this lands in between.
    const cancelling = queue.cancelMany({ type: 'x' });
    sqliteOf(queue).connection.prepare("UPDATE tasks SET type = 'y' WHERE id = ?").run(ids[1]);
    expect((await cancelling).changed).toEqual([ids[0], ids[2]]);
    expect((await queue.get(ids[1]!)).status).toBe('pending');
  });
});

describe('the store under the queue', () => {
  it('describes itself: engine and its version, location, lock, schema', async () => {
    const queue = await openTempQueue();
    const store = queue.describe();
    expect(store).toMatchObject({ engine: 'sqlite', lock: { strategy: 'os' }, schemaVersion: SCHEMA_VERSION });
    expect(store.engineVersion).toMatch(/^3\.\d+\.\d+/);
    expect(store.location).toMatch(/\.db$/);
    expect(store.lock.path).toBe(`${store.location}.lock`);
    // A fresh file: this open applied every migration.
    expect(store.appliedMigrations.at(-1)).toBe(SCHEMA_VERSION);
    expect((await queue.stats()).store).toEqual(store);
  });
});
