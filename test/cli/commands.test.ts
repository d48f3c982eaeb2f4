import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { MIGRATIONS, SCHEMA_VERSION } from '@tasklock/core/sqlite';
import { cli, cliJson, enqueue, initDb, killAllWorkers, show } from '../utils/cli.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

// Each test has its own database, so the tests of this file run concurrently; cleanup waits
// for all of them.
afterAll(async () => {
  await killAllWorkers();
  removeTempDirs();
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.concurrent('tasklock init', () => {
  it('creates, then finds nothing to migrate; prints schema version and lock strategy', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'q.db');
    const first = await cli(['--db', db, 'init']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`schema version\\s+${SCHEMA_VERSION} \\(applied migration\\(s\\) ${MIGRATIONS.map((m) => m.version).join(', ')}\\)`));
    expect(first.stdout).toMatch(/^store\s+sqlite \d+\.\d+\.\d+$/m);
    expect(first.stdout).toMatch(/lock strategy\s+os/);
    const again = await cliJson(db, ['init']);
    expect(again).toEqual({ engine: 'sqlite', engineVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/), schemaVersion: SCHEMA_VERSION, lock: { strategy: 'os', path: `${db}.lock` }, path: db, appliedMigrations: [] });
  });

  it('--reset-lock-strategy re-records the strategy; without it a different --lock is refused', async () => {
    const { db } = await initDb();
    const refused = await cli(['--db', db, '--lock', 'none', 'init']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tasklock: .*set up for lock strategy os, not none/);
    const reset = await cliJson<{ lock: unknown }>(db, ['--lock', 'none', 'init', '--reset-lock-strategy']);
    expect(reset.lock).toEqual({ strategy: 'none', path: `${db}.lock` });
    // `auto` (the default) follows the recorded strategy.
    expect((await cliJson<{ store: { lock: { strategy: string } } }>(db, ['stats'])).store.lock.strategy).toBe('none');
  });

  it('--lock flock, the os strategy\'s name before schema 3, still means os', async () => {
    const { db } = await initDb();
    const again = await cliJson<{ lock: { strategy: string } }>(db, ['--lock', 'flock', 'init']);
    expect(again.lock.strategy).toBe('os');
  });

  it('--db takes a sqlite: URL for the same file as its path', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'job');
    const viaUrl = await cliJson<{ tasks: { id: number }[] }>(`sqlite://${db}`, ['list']);
    expect(viaUrl.tasks.map((task) => task.id)).toEqual([id]);
    const stats = await cliJson<{ store: { location: string } }>(`sqlite:${db}`, ['stats']);
    expect(stats.store.location).toBe(db);
  });

  it('uses $TASKLOCK_DB when --db is absent', async () => {
    const dir = makeTempDir();
    const result = await cli(['--json', 'init'], { env: { TASKLOCK_DB: join(dir, 'env.db') } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).path).toBe(join(dir, 'env.db'));
  });

  it('other commands refuse a database that does not exist instead of creating it (exit 2)', async () => {
    const db = join(makeTempDir(), 'typo.db');
    const result = await cli(['--db', db, 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tasklock: no database at ${db} (create it with: tasklock init --db ${db})\n`);
  });
});

describe.concurrent('tasklock enqueue', () => {
  it('one task with every option; prints its id', async () => {
    const { db } = await initDb();
    const result = await cli(['--db', db, 'enqueue', 'email', '{"to":"a@example.com"}', '--queue', 'mail', '--priority', '-5',
      '--delay', '60s', '--max-attempts', '4', '--unique-key', 'welcome-a', '--timeout', '5000']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1\n');
    const { task } = await show(db, 1);
    expect(task).toMatchObject({ type: 'email', queue: 'mail', status: 'pending', priority: -5, maxAttempts: 4, uniqueKey: 'welcome-a', timeoutMs: 5000, payload: { to: 'a@example.com' } });
    expect(Date.parse(task.runAt as string) - Date.parse(task.createdAt as string)).toBe(60_000);
    // Same unique key while the first is live: the same task, not a new one.
    expect(await cliJson(db, ['enqueue', 'email', '{}', '--unique-key', 'welcome-a'])).toEqual({ ids: [1], created: [false] });
  });

  it('payload defaults to null; --run-at takes an ISO time', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'later', null, ['--run-at', '2030-01-02T03:04:05.000Z']);
    const bare = await cliJson<{ ids: number[] }>(db, ['enqueue', 'bare']);
    expect((await show(db, id)).task.runAt).toBe('2030-01-02T03:04:05.000Z');
    expect((await show(db, bare.ids[0]!)).task.payload).toBeNull();
  });

  it('--file - : one task per line, blank lines skipped, line options and command-line defaults applied', async () => {
    const { db } = await initDb();
    const lines = ['{"type":"a","payload":1}', '', '  ', '{"type":"b","payload":{"x":2},"priority":7,"backoff":{"baseMs":50},"maxAttempts":2}', '{"type":"c"}'];
    const out = await cliJson<{ ids: number[] }>(db, ['enqueue', '--file', '-', '--queue', 'bulk'], { input: `${lines.join('\n')}\n` });
    expect(out).toEqual({ ids: [1, 2, 3], created: [true, true, true] });
    const { tasks } = await cliJson<{ tasks: Record<string, unknown>[] }>(db, ['list']);
    expect(tasks.map((t) => [t.type, t.queue, t.priority, t.payload, t.maxAttempts])).toEqual([
      ['a', 'bulk', 0, 1, 3],
      ['b', 'bulk', 7, { x: 2 }, 2],
      ['c', 'bulk', 0, null, 3],
    ]);
    expect(tasks[1]!.backoff).toEqual({ baseMs: 50, factor: 2, maxMs: 3_600_000 });
  });

  it('--file <path> reads a file; prints ids one per line', async () => {
    const { dir, db } = await initDb();
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, '{"type":"a","payload":1}\n{"type":"a","payload":2}\n');
    const result = await cli(['--db', db, 'enqueue', '--file', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1\n2\n');
  });
});

describe.concurrent('tasklock list / show / stats', () => {
  it('list: filters, paging and the --json shape (times as ISO strings)', async () => {
    const { db } = await initDb();
    await cliJson(db, ['enqueue', '--file', '-'], {
      input: ['a', 'b', 'a', 'a'].map((type, i) => JSON.stringify({ type, payload: i, queue: i === 3 ? 'other' : 'default' })).join('\n'),
    });
    await cliJson(db, ['cancel', '2']);
    const { tasks } = await cliJson<{ tasks: Record<string, unknown>[] }>(db, ['list']);
    expect(tasks).toHaveLength(4);
    expect(Object.keys(tasks[0]!)).toEqual(expect.arrayContaining(['id', 'type', 'queue', 'status', 'priority', 'attempts', 'maxAttempts', 'runAt', 'createdAt', 'updatedAt', 'payload', 'result', 'lastError']));
    for (const key of ['runAt', 'createdAt', 'updatedAt']) expect(tasks[0]![key]).toMatch(ISO);
    const ids = async (...args: string[]) => (await cliJson<{ tasks: { id: number }[] }>(db, ['list', ...args])).tasks.map((t) => t.id);
    expect(await ids('--status', 'cancelled')).toEqual([2]);
    expect(await ids('--type', 'a')).toEqual([1, 3, 4]);
    expect(await ids('--queue', 'other')).toEqual([4]);
    expect(await ids('--limit', '2')).toEqual([1, 2]);
    expect(await ids('--after', '2', '--limit', '1')).toEqual([3]);
    const human = await cli(['--db', db, 'list', '--status', 'pending']);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+QUEUE\s+PRI\s+ATTEMPTS/);
    expect(human.stdout).toMatch(/^3\s+pending\s+a\s+default\s+0\s+0\/3/m);
  });

  it('show: the task, its runs and its events', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'job', { n: 1 });
    await cliJson(db, ['cancel', String(id), '--reason', 'not needed']);
    const shown = await show(db, id);
    expect(shown.task).toMatchObject({ id, type: 'job', status: 'cancelled', payload: { n: 1 } });
    expect(shown.runs).toEqual([]);
    expect(shown.events.map((e) => [e.transition, e.from, e.to, e.detail])).toEqual([
      ['enqueue', null, 'pending', null],
      ['cancel', 'pending', 'cancelled', 'not needed'],
    ]);
    const human = await cli(['--db', db, 'show', String(id)]);
    expect(human.stdout).toMatch(/^status\s+cancelled$/m);
    expect(human.stdout).toMatch(/^events$/m);
  });

  it('stats: core queue.stats() as JSON; readable lines otherwise', async () => {
    const { db } = await initDb();
    await enqueue(db, 'a');
    await enqueue(db, 'b');
    const stats = await cliJson<Record<string, unknown>>(db, ['stats']);
    expect(stats).toMatchObject({
      counts: { pending: 2, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
      store: { engine: 'sqlite', location: db, lock: { strategy: 'os', path: `${db}.lock` }, schemaVersion: SCHEMA_VERSION },
      overdueLeases: 0,
      workers: { live: 0, total: 0 },
    });
    expect(stats.oldestPendingAgeMs).toEqual(expect.any(Number));
    expect(stats.writes).toMatchObject({ transactions: expect.any(Number), lockWaitMs: expect.any(Object), lockHoldMs: expect.any(Object) });
    const human = await cli(['--db', db, 'stats']);
    expect(human.stdout).toMatch(/^pending 2, scheduled 0, running 0, succeeded 0, failed 0, cancelled 0$/m);
    expect(human.stdout).toMatch(/^lock\s+os/m);
  });
});

describe.concurrent('tasklock cancel / retry / purge / reclaim', () => {
  it('cancel, retry and purge walk a task through the operator transitions', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'job');
    expect((await cli(['--db', db, 'cancel', String(id)])).stdout).toBe(`task ${id} cancelled\n`);
    const retried = await cliJson<{ task: { status: string; maxAttempts: number } }>(db, ['retry', String(id)]);
    expect(retried.task.status).toBe('pending');
    await cliJson(db, ['cancel', String(id)]);
    expect(await cliJson(db, ['purge', '--older-than', '1h'])).toEqual({ deleted: 0 });
    expect(await cliJson(db, ['purge', '--older-than', '0', '--status', 'failed'])).toEqual({ deleted: 0 });
    const purged = await cli(['--db', db, 'purge', '--older-than', '0s', '--status', 'cancelled,failed']);
    expect(purged.stdout).toBe('deleted 1 task(s)\n');
    expect((await cliJson<{ tasks: unknown[] }>(db, ['list'])).tasks).toEqual([]);
  });

  it('reclaim takes back an expired lease (recover, its old name, still works)', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'job');
    expect(await cliJson(db, ['reclaim'])).toEqual({ reclaimed: 0, leaseExpired: 0, deadOwner: 0, deadWorkers: [], killedGroups: [], blocked: [], pruned: 0 });
    expect(await cliJson(db, ['recover'])).toEqual(await cliJson(db, ['reclaim']));
    const queue = await Queue.open(db);
    try {
      await queue.claim({ workerId: 'ghost', leaseMs: 100 });
    } finally {
      queue.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    const reclaimed = await cli(['--db', db, 'reclaim']);
    expect(reclaimed.stdout).toBe('reclaimed 1 task(s): 1 with an expired lease, 0 of dead worker(s)\n');
    const shown = await show(db, id);
    expect(shown.task.status).toBe('pending');
    expect(shown.events.at(-1)).toMatchObject({ transition: 'reclaim', workerId: 'ghost' });
    expect(shown.runs.at(-1)).toMatchObject({ outcome: 'reclaimed', workerId: 'ghost' });
  });
});

describe.concurrent('tasklock doctor / workers', () => {
  it('doctor: every check ok on a healthy database (json and text)', async () => {
    const { db } = await initDb();
    const report = await cliJson<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }>(db, ['doctor']);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['lock', 'integrity', 'foreign-keys', 'schema', 'lock-files', 'wal', 'file-modes', 'leases', 'workers']);
    expect(report.checks.find((c) => c.name === 'integrity')!.detail).toBe('integrity_check: ok');
    const human = await cli(['--db', db, 'doctor']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ok\s+integrity\s+integrity_check: ok$/m);
  });

  it('doctor exits 1 and says what to do when a lease is overdue', async () => {
    const { db } = await initDb();
    await enqueue(db, 'job');
    const queue = await Queue.open(db);
    try {
      await queue.claim({ workerId: 'ghost', leaseMs: 100 });
    } finally {
      queue.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    const result = await cli(['--db', db, '--json', 'doctor']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'leases')).toMatchObject({ ok: false, detail: expect.stringContaining('tasklock reclaim') });
    // With --json the error is JSON too: one object on stderr.
    expect(JSON.parse(result.stderr)).toEqual({ error: { code: 'failed', message: 'doctor: 1 check(s) failed: leases' } });
  });

  it('workers lists live workers; --all also a worker that ran and stopped', async () => {
    const { db } = await initDb();
    await enqueue(db, 'job');
    const run = await cli(['--db', db, 'worker', '--exec', 'true', '--until-empty', '--worker-id', 'w-1']);
    expect(run.code, run.stderr).toBe(0);
    expect((await cliJson<{ workers: unknown[] }>(db, ['workers'])).workers).toEqual([]);
    expect((await cli(['--db', db, 'workers'])).stdout).toBe('no live workers (1 stopped or crashed: tasklock workers --all)\n');
    const { workers } = await cliJson<{ workers: Record<string, unknown>[] }>(db, ['workers', '--all']);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ id: 'w-1', state: 'stopped', alive: false, queue: 'default', types: null, crashedAt: null, crashedBy: null });
    expect(workers[0]!.stoppedAt).toMatch(ISO);
    const human = await cli(['--db', db, 'workers', '--all']);
    expect(human.stdout).toMatch(/^w-1\s+stopped\s+\d+/m);
  });
});

describe.concurrent('help', () => {
  it('--help exits 0 on stdout; no command is a usage error (exit 2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tasklock [options] [command]');
    const none = await cli([]);
    expect(none.code).toBe(2);
  });
});
