import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '@tasklock/core';
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
    expect(new Set(reports.map((report) => report.strategy))).toEqual(new Set(['flock']));

    // Every child has exited: only now may this process look at the file.
    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['meta', 'tasks']));
      expect(raw.prepare("SELECT value FROM meta WHERE key = 'lock_strategy'").pluck().get()).toBe('flock');
    } finally {
      raw.close();
    }
    console.log(`migration race: 8 openers done ${elapsed.toFixed(0)} ms after "go"; applied ${JSON.stringify(applied)}`);
  });
});

describe('migration 2 on a version-1 database with data in it', () => {
  it('adds the attempt-process, released and crashed columns, counts earlier releases, keeps every row', async () => {
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
               (2, 'mail', 'succeeded', '{}', 1, 1, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0);
      INSERT INTO task_runs (task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome)
        VALUES (1, 1, 'w', 't1', 0, 1, 'released'), (1, 2, 'w', 't2', 1, 2, 'released'), (2, 1, 'w', 't3', 0, 1, 'succeeded');
      INSERT INTO workers (id, pid, host, process_start, queue, started_at, last_seen, stopped_at)
        VALUES ('w', 1, 'h', '1', 'default', 0, 0, 5);
    `);
    raw.close();

    const opener = startFixture('open-db.mjs', [dbPath, '{}']);
    const exit = await opener.succeeded();
    expect(JSON.parse(exit.lines.at(-1)!.replace(/^opened /, ''))).toMatchObject({ applied: [2] });

    const after = new Database(dbPath, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(2);
      expect(after.prepare('SELECT id, attempts, max_attempts, released FROM tasks ORDER BY id').all()).toEqual([
        { id: 1, attempts: 2, max_attempts: 3, released: 2 },
        { id: 2, attempts: 1, max_attempts: 1, released: 0 },
      ]);
      expect(after.prepare('SELECT count(*) FROM task_runs WHERE handler_pgid IS NULL').pluck().get()).toBe(3);
      expect(after.prepare('SELECT stopped_at, crashed_at, crashed_by FROM workers').get()).toEqual({ stopped_at: 5, crashed_at: null, crashed_by: null });
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      after.close();
    }
  });
});
