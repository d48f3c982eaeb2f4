import { execa } from 'execa';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { CLI_MAIN, cli, cliJson, initDb } from '../utils/cli.js';
import { Database, type RawConnection } from '../utils/core-deps.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';
import { unprivilegedRunner } from '../utils/unprivileged.js';

// Each test has its own database, so the tests of this file run concurrently.
afterAll(() => removeTempDirs());

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Tasks in a copy, opened read-only (a backup is never anybody's live database). */
function tasksIn(copy: string): number {
  const conn = new Database(copy, { readonly: true, fileMustExist: true });
  try {
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
    return (conn.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

/** Files other than the database's own: a failed backup must leave no temporary file behind. */
function strayFiles(dir: string, ...expected: string[]): string[] {
  const own = ['q.db', 'q.db-wal', 'q.db-shm', 'q.db.lock'];
  return readdirSync(dir).filter((name) => !own.includes(name) && !expected.includes(name));
}

async function enqueueSome(db: string, count: number): Promise<void> {
  await cliJson(db, ['enqueue', '--file', '-'], { input: Array.from({ length: count }, (_, i) => JSON.stringify({ type: 'job', payload: { i } })).join('\n') });
}

describe.concurrent('tasklock backup', () => {
  it('copies a live database into one self-contained 0600 file holding every committed task', async () => {
    const { dir, db } = await initDb();
    // This connection stays open, so no checkpoint runs at close: the 50 commits stay in q.db-wal,
    // and a copy of q.db alone would miss them.
    const queue = await Queue.open(db);
    try {
      await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: 'job', payload: { i, secret: 'hunter2' } })));
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      const dest = join(dir, 'q.bak');
      const result = await cli(['--db', db, 'backup', dest]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      const line = /^backup of (.+) → (.+): \d+ pages \(\d+\.\d KiB\) in (?:\d+ms|\d+(?:\.\d)?s), integrity ok\n$/.exec(result.stdout);
      expect(line?.slice(1), result.stdout).toEqual([db, dest]);
      expect(modeOf(dest)).toBe(0o600);
      expect(tasksIn(dest)).toBe(50);
      // Rollback-journal mode: opening it made no -wal or -shm, and none came with it.
      expect(strayFiles(dir, 'q.bak')).toEqual([]);
      const header = readFileSync(dest).subarray(0, 20);
      expect([header[18], header[19]]).toEqual([1, 1]);
    } finally {
      queue.close();
    }
  });

  it('--json prints one document: source, path, bytes, pages, durationMs, integrity', async () => {
    const { dir, db } = await initDb();
    await enqueueSome(db, 3);
    const dest = join(dir, 'copy.db');
    const report = await cliJson<Record<string, unknown>>(db, ['backup', dest]);
    expect(report).toEqual({ source: db, path: dest, bytes: statSync(dest).size, pages: expect.any(Number), durationMs: expect.any(Number), integrity: 'ok' });
    expect(report.bytes).toBe((report.pages as number) * 4096);
    expect(tasksIn(dest)).toBe(3);
  });

  it('an existing destination is refused (exit 2, one line, file untouched) unless --force, which replaces it', async () => {
    const { dir, db } = await initDb();
    await enqueueSome(db, 4);
    const dest = join(dir, 'q.bak');
    writeFileSync(dest, 'the previous backup', { mode: 0o644 });
    const refused = await cli(['--db', db, 'backup', dest]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`tasklock: ${dest} exists (use --force to replace it)\n`);
    expect(refused.stdout).toBe('');
    expect(readFileSync(dest, 'utf8')).toBe('the previous backup');

    const forced = await cli(['--db', db, 'backup', dest, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(tasksIn(dest)).toBe(4);
    expect(modeOf(dest)).toBe(0o600);
    expect(strayFiles(dir, 'q.bak')).toEqual([]);
  });

  it('refuses the database itself (also through a symlink), its own files, a directory and a missing directory', async () => {
    const { dir, db } = await initDb();
    await enqueueSome(db, 2);
    symlinkSync(db, join(dir, 'alias.db'));
    const cases: [string[], RegExp][] = [
      [[db], /is the database itself/],
      [[db, '--force'], /is the database itself/],
      [[join(dir, 'alias.db'), '--force'], /is the database itself/],
      [[`${db}-wal`, '--force'], /is one of the database's own files/],
      [[`${db}.lock`, '--force'], /is one of the database's own files/],
      [[dir, '--force'], /is a directory/],
      [[join(dir, 'no-such-dir', 'q.bak')], /^directory .*no-such-dir does not exist/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['--db', db, 'backup', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^tasklock: [^\n]+\n$/);
      expect(result.stderr.slice('tasklock: '.length)).toMatch(message);
    }
    expect(strayFiles(dir, 'alias.db')).toEqual([]);
    expect((await cliJson<{ tasks: unknown[] }>(db, ['list'])).tasks).toHaveLength(2);
  });

  const runner = unprivilegedRunner();

  it('an unwritable destination directory is refused with code read-only (exit 1, one line)', async (context) => {
    if ('skip' in runner) {
      console.log(`SKIPPED unwritable directory test: ${runner.skip}`);
      context.skip();
      return;
    }
    const { dir, db } = await initDb();
    const readOnly = join(dir, 'ro');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const command = [...runner.prefix, process.execPath, CLI_MAIN, '--db', db, 'backup', join(readOnly, 'q.bak')];
    const result = await execa(command[0]!, command.slice(1), {
      reject: false,
      env: { TASKLOCK_DB: undefined },
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`tasklock: directory ${readOnly} is not writable: the backup is written to a temporary file there first`);
    expect(readdirSync(readOnly)).toEqual([]);
  });

  it('a write error during the copy (file size limit): exit 1, one line with the SQLite code, previous backup kept, no temporary file left', async () => {
    const { dir, db } = await initDb();
    await enqueueSome(db, 3);
    const dest = join(dir, 'q.bak');
    expect((await cli(['--db', db, 'backup', dest])).code).toBe(0);
    const previous = readFileSync(dest);
    await cliJson(db, ['enqueue', '--file', '-'], { input: Array.from({ length: 300 }, () => JSON.stringify({ type: 'big', payload: 'x'.repeat(1000) })).join('\n') });
    // ulimit -f 64: no file of this process may grow past 64 KiB (EFBIG; Node ignores SIGXFSZ).
    // The copy (≈ 400 KiB) hits it; the command's own small writes to the database do not.
    const result = await execa('bash', ['-c', 'ulimit -f 64 && exec "$0" "$@"', process.execPath, CLI_MAIN, '--db', db, 'backup', dest, '--force'], {
      reject: false,
      env: { TASKLOCK_DB: undefined },
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.startsWith(`tasklock: backup to ${dest} failed: `), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/ failed: SQLITE_IOERR_WRITE: [^\n]+$/);
    expect(readFileSync(dest).equals(previous)).toBe(true);
    expect(strayFiles(dir, 'q.bak')).toEqual([]);
  });

  it('a copy that fails integrity_check is an error: exit 1, one line, the previous backup kept, no temporary file left', async () => {
    const { dir, db } = await initDb();
    await enqueueSome(db, 3);
    const dest = join(dir, 'q.bak');
    expect((await cli(['--db', db, 'backup', dest])).code).toBe(0);
    const previous = readFileSync(dest);
    storeNonInteger(db);

    const result = await cli(['--db', db, 'backup', dest, '--force']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tasklock: backup to ${dest} failed its integrity check (non-INTEGER value in tasks.attempts); ` +
        `${dest} was left as it was — run tasklock doctor on the database\n`,
    );
    expect(readFileSync(dest).equals(previous)).toBe(true);
    expect(strayFiles(dir, 'q.bak')).toEqual([]);
  });
});

/**
 * Damage that VACUUM INTO copies faithfully and integrity_check reports: a TEXT value in the
 * STRICT INTEGER column tasks.attempts, stored while the table's schema briefly said it was not
 * STRICT. (VACUUM rebuilds b-trees and indexes, so structural damage would not reach the copy.)
 */
function storeNonInteger(db: string): void {
  const edit = (fn: (conn: RawConnection) => void) => {
    const conn = new Database(db);
    try {
      fn(conn);
    } finally {
      conn.close();
    }
  };
  let strict = '';
  edit((conn) => {
    strict = (conn.prepare("SELECT sql FROM sqlite_master WHERE name = 'tasks'").get() as { sql: string }).sql;
    conn.unsafeMode(true);
    conn.pragma('writable_schema = ON');
    conn.prepare("UPDATE sqlite_master SET sql = ? WHERE name = 'tasks'").run(strict.replace(/\)\s*STRICT\s*$/, ')'));
  });
  edit((conn) => conn.prepare("UPDATE tasks SET attempts = 'many' WHERE id = 2").run());
  edit((conn) => {
    conn.unsafeMode(true);
    conn.pragma('writable_schema = ON');
    conn.prepare("UPDATE sqlite_master SET sql = ? WHERE name = 'tasks'").run(strict);
  });
}
