import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TasklockError } from '@tasklock/core';
import { MIGRATIONS, openDatabase, SCHEMA_VERSION } from '@tasklock/core/sqlite';
import { Database } from '../utils/core-deps.js';
import { fixturePath, killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';
import { unprivilegedRunner } from '../utils/unprivileged.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

async function openError(path: string, options?: Parameters<typeof openDatabase>[1]): Promise<TasklockError> {
  let db;
  try {
    db = await openDatabase(path, { onWarning: () => undefined, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(TasklockError);
    return error as TasklockError;
  }
  db.close();
  throw new Error(`openDatabase(${path}) succeeded; a refusal was expected`);
}

describe('lock strategy at open', () => {
  const ADDON_VARIABLE = 'TASKLOCK_OS_LOCK_ADDON';
  const savedAddon = process.env[ADDON_VARIABLE];
  afterEach(() => {
    if (savedAddon === undefined) delete process.env[ADDON_VARIABLE];
    else process.env[ADDON_VARIABLE] = savedAddon;
  });

  it('lockRequired with the OS lock addon missing refuses with lock-unavailable', async () => {
    process.env[ADDON_VARIABLE] = fixturePath('no-such-addon.cjs');
    const error = await openError(join(makeTempDir(), 'q.db'), { lockRequired: true });
    expect(error.code).toBe('lock-unavailable');
    expect(error.message).toMatch(/no-such-addon\.cjs/);
  });

  it('a database set up with the os strategy refuses lockfile, and the reverse', async () => {
    const dir = makeTempDir();
    const osDb = join(dir, 'os.db');
    (await openDatabase(osDb, { lock: 'os' })).close();
    const lockfileDb = join(dir, 'lockfile.db');
    (await openDatabase(lockfileDb, { lock: 'lockfile' })).close();

    const wrongOnOs = await openError(osDb, { lock: 'lockfile' });
    expect(wrongOnOs.code).toBe('lock-strategy-mismatch');
    expect(wrongOnOs.message).toMatch(/set up for lock strategy os, not lockfile/);
    const wrongOnLockfile = await openError(lockfileDb, { lock: 'os' });
    expect(wrongOnLockfile.code).toBe('lock-strategy-mismatch');
  });

  it('auto follows the recorded strategy, without a warning', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    (await openDatabase(dbPath, { lock: 'lockfile' })).close();
    const warnings: string[] = [];
    const db = await openDatabase(dbPath, { lock: 'auto', onWarning: (message) => warnings.push(message) });
    try {
      expect(db.lockStrategy).toBe('lockfile');
      expect(warnings).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('auto on an os-strategy database where the OS lock is unavailable refuses instead of falling back', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    (await openDatabase(dbPath, { lock: 'os' })).close();
    process.env[ADDON_VARIABLE] = fixturePath('no-such-addon.cjs');
    const error = await openError(dbPath, { lock: 'auto' });
    expect(error.code).toBe('lock-strategy-mismatch');
  });
});

describe('a read-only directory', () => {
  const runner = unprivilegedRunner();
  if ('skip' in runner) console.log(`SKIPPED read-only directory tests: ${runner.skip}`);
  const skip = 'skip' in runner;

  async function openUnprivileged(dbPath: string): Promise<{ line: string; ms: number }> {
    const started = performance.now();
    const child = startFixture('open-db.mjs', [dbPath], { prefix: 'prefix' in runner ? runner.prefix : [], timeoutMs: 20_000 });
    const exit = await child.exited;
    const ms = performance.now() - started;
    const output = `stdout: ${exit.lines.join('\n')}\nstderr: ${exit.stderr}`;
    expect(exit.timedOut, output).toBe(false);
    expect(exit.code, output).toBe(1);
    expect(exit.lines, output).toHaveLength(1);
    return { line: exit.lines[0]!, ms };
  }

  it.skipIf(skip)('refuses to create a database there, at once, with code read-only', async () => {
    const dir = join(makeTempDir(), 'ro');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    const { line, ms } = await openUnprivileged(join(dir, 'q.db'));
    expect(line).toMatch(/^error read-only .*not writable/);
    expect(readdirSync(dir)).toEqual([]);
    console.log(`read-only directory, new database: refused in ${ms.toFixed(0)} ms: ${line}`);
  });

  it.skipIf(skip)('refuses to open an existing database there, at once, with code read-only', async () => {
    const dir = join(makeTempDir(), 'ro');
    mkdirSync(dir);
    const dbPath = join(dir, 'q.db');
    (await openDatabase(dbPath)).close();
    const before = readFileSync(dbPath);
    chmodSync(dir, 0o555);
    try {
      const { line, ms } = await openUnprivileged(dbPath);
      expect(line).toMatch(/^error read-only .*not writable/);
      expect(readFileSync(dbPath).equals(before)).toBe(true);
      console.log(`read-only directory, existing database: refused in ${ms.toFixed(0)} ms: ${line}`);
    } finally {
      // A user other than root could not delete q.db from the 0555 directory afterwards.
      chmodSync(dir, 0o755);
    }
  });
});

describe('a new file while another connection writes to it', () => {
  // SQLite answers the switch to WAL with SQLITE_BUSY at once, without the busy handler, while
  // another connection holds RESERVED: what 8 processes opening one new file at once run into.
  it('the switch to WAL waits for the writer instead of failing, then migrates', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const writer = new Database(dbPath);
    writer.exec('BEGIN IMMEDIATE');
    // openDatabase runs synchronously up to its first wait: the switch has met the writer's
    // lock by the time the writer commits.
    const opening = openDatabase(dbPath, { busyTimeoutMs: 10_000 });
    writer.exec('COMMIT');
    writer.close();
    const db = await opening;
    try {
      expect(db.connection.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.appliedMigrations).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it('a writer holding on past busy_timeout: a persistence error naming the file and SQLITE_BUSY', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const writer = new Database(dbPath);
    try {
      writer.exec('BEGIN IMMEDIATE');
      const error = await openError(dbPath, { busyTimeoutMs: 50 });
      expect(error.code).toBe('persistence');
      expect(error.message).toBe(`cannot open ${dbPath}: SQLITE_BUSY: database is locked`);
      writer.exec('ROLLBACK');
    } finally {
      writer.close();
    }
  });
});

describe('refusals leave the file as it was', () => {
  it('a schema newer than this code (file in rollback-journal mode)', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const raw = new Database(dbPath);
    raw.exec('CREATE TABLE future (x INTEGER)');
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(dbPath);

    const error = await openError(dbPath);
    expect(error.code).toBe('schema-too-new');
    expect(error.message).toContain('99');
    expect(error.message).toContain(`(${SCHEMA_VERSION})`);
    expect(readFileSync(dbPath).equals(before)).toBe(true);
  });

  it('a schema newer than this code (a tasklock database, WAL mode)', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const db = await openDatabase(dbPath);
    db.connection.pragma('user_version = 99');
    db.close();
    const before = readFileSync(dbPath);

    const error = await openError(dbPath);
    expect(error.code).toBe('schema-too-new');
    expect(error.message).toContain(`schema version 99, newer than this tasklock knows (${SCHEMA_VERSION})`);
    expect(readFileSync(dbPath).equals(before)).toBe(true);
  });

  it('a file that is not a SQLite database', async () => {
    const dbPath = join(makeTempDir(), 'notes.txt');
    writeFileSync(dbPath, 'these are my notes\nnot a database at all\n'.repeat(50));
    const before = readFileSync(dbPath);

    const error = await openError(dbPath);
    expect(error.code).toBe('not-a-database');
    expect(error.message).toContain(dbPath);
    expect(readFileSync(dbPath).equals(before)).toBe(true);
  });

  it('a path whose directory does not exist, naming the directory', async () => {
    const missing = join(makeTempDir(), 'no-such-dir');
    const error = await openError(join(missing, 'q.db'));
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain(`directory ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it(':memory: (the processes could not share it)', async () => {
    const error = await openError(':memory:');
    expect(error.code).toBe('bad-input');
  });
});
