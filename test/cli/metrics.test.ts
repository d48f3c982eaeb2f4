// `tasklock metrics`: the Prometheus text a dashboard will serve, read from the store after
// other processes worked on it — on SQLite and on PostgreSQL. The text is parsed by a strict
// reader (test/utils/prometheus-text.ts) and its values checked against the scenario and against
// each task's own event log.
import { execa, type ResultPromise } from 'execa';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Queue, type TaskEventRow } from '@tasklock/core';
import { cli, CLI_MAIN, cliFixture } from '../utils/cli.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { parsePrometheusText, sampleValue } from '../utils/prometheus-text.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';
import { until } from '../utils/until.js';

const workers: ResultPromise[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill('SIGKILL');
    await worker.catch(() => undefined);
  }
  await dropPgDatabases();
});
afterAll(() => removeTempDirs());

const STORES = {
  sqlite: async () => join(makeTempDir('tasklock-metrics-'), 'q.db'),
  postgres: () => makePgDatabase(),
};

function startWorker(db: string, args: readonly string[], env: Record<string, string> = {}): ResultPromise {
  const worker = execa(process.execPath, [CLI_MAIN, '--db', db, 'worker', ...args], { reject: false, env: { TASKLOCK_DB: undefined, ...env } });
  workers.push(worker);
  return worker;
}

describe.each(Object.entries(STORES))('tasklock metrics on %s', (_engine, makeStore) => {
  it('after worker processes ran, reports the tasks, transitions, reclaimed lease and live heartbeat the store holds', { timeout: 60_000 }, async () => {
    const db = await makeStore();
    const queue = await Queue.open(db);
    try {
      // A worker process dies (SIGKILL) holding a `slow` task: the next worker's start-up sweep reclaims it.
      const slow = await queue.enqueue('slow', {});
      const doomed = startWorker(db, ['--types', 'slow', '--handler', cliFixture('sleep-handler.mjs')], { SLEEP_MS: '600000' });
      await until('the slow task to run', async () => (await queue.get(slow.id)).status === 'running');
      doomed.kill('SIGKILL');
      await doomed;

      for (let i = 0; i < 4; i += 1) await queue.enqueue('ok', { i });
      for (let i = 0; i < 2; i += 1) await queue.enqueue('bad', { kind: 'multiline' }, { maxAttempts: 2, backoff: { baseMs: 10, factor: 1, maxMs: 10 } });
      const startedAt = Date.now();
      const worker = startWorker(db, ['--handler', cliFixture('throwing-handler.mjs'), '--concurrency', '2', '--worker-id', 'metrics-w1', '--heartbeat', '200']);
      await until('the worker to drain the queue', async () => {
        const { counts } = await queue.stats();
        return counts.succeeded === 5 && counts.failed === 2;
      });

      const run = await cli(['--db', db, 'metrics']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      const families = parsePrometheusText(run.stdout);
      expect(families.get('tasklock_tasks')?.type).toBe('gauge');
      expect(families.get('tasklock_transitions_total')?.type).toBe('counter');
      expect(families.get('tasklock_write_lock_wait_seconds')?.type).toBe('histogram');

      // Tasks by status and type: the store's own counts, every series of them, and nothing else.
      const counts = (await queue.store.stats(Date.now())).counts;
      expect(families.get('tasklock_tasks')!.samples.map((s) => ({ ...s.labels, count: s.value })).sort(byKey)).toEqual(
        counts.map((row) => ({ queue: row.queue, type: row.type, status: row.status, count: row.count })).sort(byKey),
      );
      expect(sampleValue(families, 'tasklock_tasks', { type: 'ok', status: 'succeeded' })).toBe(4);
      expect(sampleValue(families, 'tasklock_tasks', { type: 'bad', status: 'failed' })).toBe(2);
      expect(sampleValue(families, 'tasklock_tasks', { type: 'slow', status: 'succeeded' })).toBe(1);

      // Transitions: what the scenario did…
      const transition = (name: string, type: string) => sampleValue(families, 'tasklock_transitions_total', { transition: name, type });
      expect([transition('enqueue', 'ok'), transition('claim', 'ok'), transition('complete', 'ok')]).toEqual([4, 4, 4]);
      expect([transition('enqueue', 'bad'), transition('claim', 'bad'), transition('fail', 'bad')]).toEqual([2, 4, 4]);
      expect([transition('claim', 'slow'), transition('reclaim', 'slow'), transition('complete', 'slow')]).toEqual([2, 1, 1]);
      expect(sampleValue(families, 'tasklock_reclaimed_leases_total', { type: 'slow' })).toBe(1);
      // …and, series for series, the sum of every task's own event log.
      const fromLogs = new Map<string, number>();
      for (const task of await queue.list({ limit: 100 })) {
        for (const event of (await queue.events(task.id)) as TaskEventRow[]) {
          const key = `${event.transition}/${task.type}`;
          fromLogs.set(key, (fromLogs.get(key) ?? 0) + 1);
        }
      }
      const fromMetrics = new Map(families.get('tasklock_transitions_total')!.samples.map((s) => [`${s.labels.transition}/${s.labels.type}`, s.value]));
      expect(fromMetrics).toEqual(fromLogs);

      // The live worker's heartbeat, as its row has it; the killed worker is crashed by now, not shown.
      const heartbeats = families.get('tasklock_worker_last_heartbeat_timestamp_seconds')!.samples;
      expect(heartbeats.map((s) => s.labels.worker)).toEqual(['metrics-w1']);
      expect(heartbeats[0]!.value * 1000).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(heartbeats[0]!.value * 1000).toBeLessThanOrEqual(Date.now() + 1000);

      // This process's write path: histograms whose +Inf bucket is the transactions it timed.
      const waits = sampleValue(families, 'tasklock_write_lock_wait_seconds', { le: '+Inf' }, 'tasklock_write_lock_wait_seconds_bucket')!;
      expect(waits).toBe(sampleValue(families, 'tasklock_write_lock_wait_seconds', {}, 'tasklock_write_lock_wait_seconds_count'));

      // --json: the same registry in prom-client's JSON form.
      const json = await cli(['--db', db, '--json', 'metrics']);
      expect(json.code, json.stderr).toBe(0);
      const { metrics } = JSON.parse(json.stdout) as { metrics: { name: string; type: string; values: { labels: Record<string, string>; value: number }[] }[] };
      const tasks = metrics.find((m) => m.name === 'tasklock_tasks')!;
      expect(tasks.type).toBe('gauge');
      expect(tasks.values.find((v) => v.labels.type === 'ok' && v.labels.status === 'succeeded')?.value).toBe(4);

      worker.kill('SIGTERM');
      expect((await worker).exitCode).toBe(0);
      // Stopped: its heartbeat is no longer reported.
      const after = parsePrometheusText((await cli(['--db', db, 'metrics'])).stdout);
      expect(after.get('tasklock_worker_last_heartbeat_timestamp_seconds')!.samples).toEqual([]);
    } finally {
      queue.close();
    }
  });
});

describe('tasklock metrics: bad input', () => {
  it('an unknown option exits 2 with one line and prints no metrics', async () => {
    const db = join(makeTempDir('tasklock-metrics-'), 'q.db');
    const run = await cli(['--db', db, 'metrics', '--port', '9090']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^tasklock: unknown option '--port'\n$/);
  });

  it('an unexpected argument exits 2', async () => {
    const db = join(makeTempDir('tasklock-metrics-'), 'q.db');
    const run = await cli(['--db', db, 'metrics', 'extra']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a store that cannot be opened exits 1 with one line', async () => {
    const run = await cli(['--db', 'postgres://nobody@127.0.0.1:1/none', 'metrics']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

function byKey(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
}
