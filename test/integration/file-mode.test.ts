import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TasklockError } from '@tasklock/core';
import { openDatabase } from '@tasklock/core/sqlite';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

interface Modes {
  db: string | null;
  wal: string | null;
  shm: string | null;
  lock: string | null;
}

/**
 * Opens `dbPath` in a child process started under `umask` and returns the modes of the database,
 * its -wal and -shm (seen while the connection is open) and its lock.
 */
async function modesUnderUmask(umask: string, dbPath: string, options: object = {}): Promise<Modes> {
  const child = startFixture('file-modes.mjs', [dbPath, JSON.stringify(options)], {
    prefix: ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh'],
    timeoutMs: 20_000,
  });
  const exit = await child.exited;
  expect(exit.code, `${exit.lines.join('\n')}\n${exit.stderr}`).toBe(0);
  const line = exit.lines.find((l) => l.startsWith('modes '));
  return JSON.parse(line!.slice('modes '.length)) as Modes;
}

function modeOf(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

describe('files a new database creates', () => {
  it.each(['022', '000', '077'])('are 0600 by default under umask %s: the database, its -wal, -shm and lock file', async (umask) => {
    const dbPath = join(makeTempDir(), 'q.db');
    const modes = await modesUnderUmask(umask, dbPath);
    expect(modes).toEqual({ db: '0600', wal: '0600', shm: '0600', lock: '0600' });
  });

  it.each(['022', '077'])('follow fileMode 0o660 exactly under umask %s (the umask does not narrow it)', async (umask) => {
    const dbPath = join(makeTempDir(), 'q.db');
    const modes = await modesUnderUmask(umask, dbPath, { fileMode: 0o660 });
    // SQLite gives the -wal and -shm it creates the database file's mode, whatever the umask.
    expect(modes).toEqual({ db: '0660', wal: '0660', shm: '0660', lock: '0660' });
  });

  it('with the lockfile strategy: the database and its -wal, -shm are 0600 (the lock is a directory)', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const modes = await modesUnderUmask('022', dbPath, { lock: 'lockfile' });
    expect(modes).toMatchObject({ db: '0600', wal: '0600', shm: '0600' });
    expect(modes.lock === null || modes.lock === 'dir').toBe(true);
  });
});

describe('files that already exist', () => {
  it('keep their mode: a 0644 database and lock file stay 0644 (and SQLite makes -wal, -shm 0644 too)', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    // An empty file is an empty database: what SQLite itself would have created under umask 022.
    writeFileSync(dbPath, '');
    chmodSync(dbPath, 0o644);
    writeFileSync(`${dbPath}.lock`, '');
    chmodSync(`${dbPath}.lock`, 0o644);
    const modes = await modesUnderUmask('022', dbPath, { fileMode: 0o600 });
    expect(modes).toEqual({ db: '0644', wal: '0644', shm: '0644', lock: '0644' });
  });

  it('a 0600 database opened with fileMode 0o660 stays 0600', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    (await openDatabase(dbPath)).close();
    (await openDatabase(dbPath, { fileMode: 0o660 })).close();
    expect(modeOf(dbPath)).toBe('0600');
    expect(modeOf(`${dbPath}.lock`)).toBe('0600');
  });
});

describe('fileMode validation', () => {
  it.each([
    ['0o400', 0o400, 'got 256 = 0400'],
    ['0o1660', 0o1660, 'got 944 = 01660'],
    // A decimal 660 where 0o660 was meant.
    ['660 (decimal)', 660, 'got 660 = 01224'],
    ['384.5', 384.5, 'got 384.5'],
  ])('refuses %s with one line, creating nothing', async (_label, fileMode, got) => {
    const dbPath = join(makeTempDir(), 'q.db');
    let error: unknown;
    try {
      (await openDatabase(dbPath, { fileMode })).close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TasklockError);
    expect((error as TasklockError).code).toBe('bad-input');
    expect((error as TasklockError).message).toBe(
      `fileMode must be an integer from 0o600 to 0o777 with owner read and write, such as 0o600 or 0o660 (${got})`,
    );
    expect(existsSync(dbPath)).toBe(false);
    expect(existsSync(`${dbPath}.lock`)).toBe(false);
  });
});
