import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '@tasklock/core/sqlite';
import { Database } from '../utils/core-deps.js';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

describe('migrations', () => {
  it('8 processes opening a fresh file at the same moment: exactly one migrates, none fails', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const openers = Array.from({ length: 8 }, () => startFixture('open-db.mjs', [dbPath, '{}', '--wait-go']));
    // Each child has loaded the library before "ready": the race is openDatabase alone.
    await Promise.all(openers.map((child) => child.waitForLine('ready')));
    const started = performance.now();
    for (const child of openers) child.send('go');
    const exits = await Promise.all(openers.map((child) => child.succeeded()));
    const elapsed = performance.now() - started;

    const reports = exits.map((exit) => {
      expect(exit.lines).toHaveLength(2);
      const opened = exit.lines[1]!.match(/^opened (.*)$/);
      expect(opened, exit.lines[1]).not.toBeNull();
      return JSON.parse(opened![1]!) as { applied: number[]; strategy: string };
    });
    const applied = reports.map((report) => report.applied);
    expect(applied.filter((versions) => versions.length > 0)).toEqual([MIGRATIONS.map((m) => m.version)]);
    expect(applied.filter((versions) => versions.length === 0)).toHaveLength(7);
    expect(new Set(reports.map((report) => report.strategy))).toEqual(new Set(['os']));

    // Every child has exited: only now may this process look at the file.
    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['meta', 'tasks']));
      expect(raw.prepare("SELECT value FROM meta WHERE key = 'lock_strategy'").pluck().get()).toBe('os');
    } finally {
      raw.close();
    }
    console.log(`migration race: 8 openers done ${elapsed.toFixed(0)} ms after "go"; applied ${JSON.stringify(applied)}`);
  });
});

describe('migrations 2 to 10 on a version-1 database with data in it', () => {
  it('adds the attempt-process, released and crashed columns, counts earlier releases, renames reclaim and the os strategy, derives claims and run ends from runs, keys runs by attempt, keeps every row', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    // A version-1 database as the previous release left it: one task released twice (that
    // release raised max_attempts to 3), one finished task, one stopped worker.
    const raw = new Database(dbPath);
    raw.pragma('journal_mode = WAL');
    raw.exec(MIGRATIONS[0]!.sql);
    raw.pragma('user_version = 1');
    raw.exec(`
      INSERT INTO meta (key, value) VALUES ('lock_strategy', 'flock');
      INSERT INTO tasks (id, type, status, payload, attempts, max_attempts, backoff, run_at, created_at, updated_at)
        VALUES (1, 'mail', 'pending', '{}', 2, 3, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0),
               (2, 'mail', 'succeeded', '{}', 1, 1, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0),
               (3, 'mail', 'pending', '{}', 1, 3, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0);
      INSERT INTO task_runs (id, task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error)
        VALUES (10, 1, 1, 'w', 't1', 0, 1, 'released', NULL), (11, 1, 2, 'w', 't2', 1, 2, 'released', NULL),
               (12, 2, 1, 'w', 't3', 0, 1, 'succeeded', NULL), (13, 3, 1, 'w', 't4', 0, 1, 'lease-lost', 'lease lost: lease expired');
      INSERT INTO task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
        VALUES (3, 1, 'claim', 'pending', 'running', 1, 'w', NULL), (3, 2, 'expire', 'running', 'pending', 1, 'w', 'lease lost: lease expired'),
               (1, 1, 'release', 'running', 'pending', 1, 'w', 'worker shut down before the task finished'),
               (1, 2, 'release', 'running', 'pending', 2, 'w', 'worker shut down before the task finished'),
               (2, 1, 'complete', 'running', 'succeeded', 1, 'api', NULL),
               (2, 0, 'enqueue', NULL, 'pending', 0, NULL, NULL);
      INSERT INTO workers (id, pid, host, process_start, queue, started_at, last_seen, stopped_at)
        VALUES ('w', 1, 'h', '1', 'default', 0, 0, 5);
    `);
    raw.close();

    const opener = startFixture('open-db.mjs', [dbPath, '{}']);
    const exit = await opener.succeeded();
    expect(JSON.parse(exit.lines.at(-1)!.replace(/^opened /, ''))).toMatchObject({ applied: [2, 3, 4, 5, 6, 7, 8, 9, 10] });

    const after = new Database(dbPath, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(10);
      expect(after.prepare('SELECT id, attempts, max_attempts, released FROM tasks ORDER BY id').all()).toEqual([
        { id: 1, attempts: 2, max_attempts: 3, released: 2 },
        { id: 2, attempts: 1, max_attempts: 1, released: 0 },
        { id: 3, attempts: 1, max_attempts: 3, released: 0 },
      ]);
      expect(after.prepare('SELECT count(*) FROM task_runs WHERE handler_pgid IS NULL').pluck().get()).toBe(4);
      // Schema 3: one name for reclaim in stored values (rows kept), and the os strategy.
      // Schema 5: runs keyed by (task_id, attempt), no rowid; every column of every row kept.
      expect(after.prepare('SELECT task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome, error FROM task_runs ORDER BY task_id, attempt').all()).toEqual([
        { task_id: 1, attempt: 1, worker_id: 'w', lease_token: 't1', started_at: 0, finished_at: 1, outcome: 'released', error: null },
        { task_id: 1, attempt: 2, worker_id: 'w', lease_token: 't2', started_at: 1, finished_at: 2, outcome: 'released', error: null },
        { task_id: 2, attempt: 1, worker_id: 'w', lease_token: 't3', started_at: 0, finished_at: 1, outcome: 'succeeded', error: null },
        { task_id: 3, attempt: 1, worker_id: 'w', lease_token: 't4', started_at: 0, finished_at: 1, outcome: 'reclaimed', error: 'lease lost: lease expired' },
      ]);
      expect(after.prepare("SELECT wr, pk FROM pragma_table_list('task_runs') JOIN (SELECT group_concat(name) AS pk FROM pragma_table_info('task_runs') WHERE pk > 0)").get()).toEqual({ wr: 1, pk: 'task_id,attempt' });
      // Schema 4: the stored claim event is gone; the log derives it from the run, in its place.
      expect(after.prepare('SELECT transition FROM task_events WHERE task_id = 3 ORDER BY id').pluck().all()).toEqual(['reclaim']);
      expect(after.prepare('SELECT id IS NULL AS derived, transition, at, worker_id FROM task_event_log WHERE task_id = 3 ORDER BY attempt, rank, id').all()).toEqual([
        { derived: 1, transition: 'enqueue', at: 0, worker_id: null },
        { derived: 1, transition: 'claim', at: 0, worker_id: 'w' },
        { derived: 0, transition: 'reclaim', at: 2, worker_id: 'w' },
      ]);
      // Schema 6: the stored enqueues and ends are gone, derived from the runs in their place; the one written
      // under another name than the run's worker keeps that name in finished_by.
      expect(after.prepare("SELECT count(*) FROM task_events WHERE transition IN ('enqueue', 'complete', 'fail', 'release')").pluck().get()).toBe(0);
      expect(after.prepare('SELECT task_id, attempt, finished_by FROM task_runs WHERE finished_by IS NOT NULL').all()).toEqual([{ task_id: 2, attempt: 1, finished_by: 'api' }]);
      expect(after.prepare('SELECT task_id, transition, to_status, attempt, worker_id, detail FROM task_event_log WHERE task_id IN (1, 2) ORDER BY task_id, attempt, rank, id').all()).toEqual([
        { task_id: 1, transition: 'enqueue', to_status: 'pending', attempt: 0, worker_id: null, detail: null },
        { task_id: 1, transition: 'claim', to_status: 'running', attempt: 1, worker_id: 'w', detail: null },
        { task_id: 1, transition: 'release', to_status: 'pending', attempt: 1, worker_id: 'w', detail: 'worker shut down before the task finished' },
        { task_id: 1, transition: 'claim', to_status: 'running', attempt: 2, worker_id: 'w', detail: null },
        { task_id: 1, transition: 'release', to_status: 'pending', attempt: 2, worker_id: 'w', detail: 'worker shut down before the task finished' },
        { task_id: 2, transition: 'enqueue', to_status: 'pending', attempt: 0, worker_id: null, detail: null },
        { task_id: 2, transition: 'claim', to_status: 'running', attempt: 1, worker_id: 'w', detail: null },
        { task_id: 2, transition: 'complete', to_status: 'succeeded', attempt: 1, worker_id: 'api', detail: null },
      ]);
      expect(after.prepare('SELECT count(*) FROM finish_counts').pluck().get()).toBe(0);
      expect(after.prepare("SELECT value FROM meta WHERE key = 'lock_strategy'").pluck().get()).toBe('os');
      expect(after.pragma('foreign_key_check')).toEqual([]);
      expect(after.prepare('SELECT stopped_at, crashed_at, crashed_by FROM workers').get()).toEqual({ stopped_at: 5, crashed_at: null, crashed_by: null });
      // 7: a worker of an older version has no silence bound of its own: judged by pid and leases only.
      expect(after.prepare('SELECT dead_after_ms FROM workers').get()).toEqual({ dead_after_ms: null });
      // 8: tasks enqueued before it carry no producer trace context.
      expect(after.prepare('SELECT count(*) FROM tasks WHERE trace_context IS NULL').pluck().get()).toBe(3);
      // 10: rows already there are numbered for the event stream by their times (keeping their order), the counter past them all.
      expect(after.prepare('SELECT task_id, attempt, started_seq, finished_seq FROM task_runs ORDER BY task_id, attempt').all()).toEqual([
        { task_id: 1, attempt: 1, started_seq: 0, finished_seq: 1 },
        { task_id: 1, attempt: 2, started_seq: 1, finished_seq: 2 },
        { task_id: 2, attempt: 1, started_seq: 0, finished_seq: 1 },
        { task_id: 3, attempt: 1, started_seq: 0, finished_seq: 1 },
      ]);
      expect(after.prepare('SELECT count(*) FROM tasks WHERE created_seq != created_at').pluck().get()).toBe(0);
      expect(after.prepare('SELECT count(*) FROM task_events WHERE seq != at').pluck().get()).toBe(0);
      expect(after.prepare('SELECT seq FROM write_seq').all()).toEqual([{ seq: 2 }]);
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      after.close();
    }
  });
});
