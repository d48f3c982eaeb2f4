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
