import { execa } from 'execa';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, CLI_MAIN, cliJson, type CliOptions } from '../utils/cli.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

// afterAll: the tests run concurrently, and removeTempDirs() removes every test's directory.
afterAll(() => removeTempDirs());

interface DoctorReport {
  ok: boolean;
  checks: { name: string; ok: boolean; warning?: boolean; detail: string; files?: { path: string; mode: string }[] }[];
}

/** Runs a command that must succeed (its stderr is the failure message). */
async function ok(args: readonly string[], options?: CliOptions): Promise<void> {
  const result = await cli(args, options);
  expect(result.code, result.stderr).toBe(0);
}

function modeOf(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

/** doctor's file-modes check: it has a connection open, so the -wal and -shm exist meanwhile. */
async function fileModes(db: string): Promise<DoctorReport['checks'][number]> {
  const report = await cliJson<DoctorReport>(db, ['doctor']);
  expect(report.ok).toBe(true);
  return report.checks.find((check) => check.name === 'file-modes')!;
}

function modesByFile(check: DoctorReport['checks'][number], db: string): Record<string, string> {
  return Object.fromEntries(check.files!.map(({ path, mode }) => [path.slice(db.length) || 'db', mode]));
}

describe.concurrent('files tasklock creates', () => {
  it('init makes the database and lock file 0600; doctor sees the -wal and -shm 0600 too, and does not warn', async () => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    await ok(['--db', db, 'init']);
    expect([modeOf(db), modeOf(`${db}.lock`)]).toEqual(['0600', '0600']);
    const check = await fileModes(db);
    expect(check.warning).toBeUndefined();
    expect(modesByFile(check, db)).toEqual({ db: '0600', '-wal': '0600', '-shm': '0600', '.lock': '0600' });
    const human = await cli(['--db', db, 'doctor']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`ok    file-modes   ${db} 0600, ${db}-wal 0600, ${db}-shm 0600, ${db}.lock 0600\n`);
  });

  it('0600 under umask 000 as well', async () => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    const init = await execa('sh', ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, CLI_MAIN, '--db', db, 'init'], { reject: false });
    expect(init.exitCode, String(init.stderr)).toBe(0);
    expect([modeOf(db), modeOf(`${db}.lock`)]).toEqual(['0600', '0600']);
  });

  it('--file-mode 0660 gives 0660, and the -wal and -shm follow', async () => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    await ok(['--db', db, '--file-mode', '0660', 'init']);
    expect([modeOf(db), modeOf(`${db}.lock`)]).toEqual(['0660', '0660']);
    const check = await fileModes(db);
    expect(check.warning).toBeUndefined();
    expect(modesByFile(check, db)).toEqual({ db: '0660', '-wal': '0660', '-shm': '0660', '.lock': '0660' });
  });

  it('TASKLOCK_FILE_MODE is the default of --file-mode', async () => {
    const dir = makeTempDir('tasklock-cli-');
    const fromEnv = join(dir, 'env.db');
    await ok(['--db', fromEnv, 'init'], { env: { TASKLOCK_FILE_MODE: '640' } });
    expect(modeOf(fromEnv)).toBe('0640');
    const fromOption = join(dir, 'option.db');
    await ok(['--db', fromOption, '--file-mode', '0o660', 'init'], { env: { TASKLOCK_FILE_MODE: '640' } });
    expect(modeOf(fromOption)).toBe('0660');
  });

  it('an existing database keeps its mode whatever --file-mode says', async () => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    await ok(['--db', db, 'init']);
    await ok(['--db', db, '--file-mode', '0660', 'enqueue', 'job', '{}']);
    expect([modeOf(db), modeOf(`${db}.lock`)]).toEqual(['0600', '0600']);
  });
});

describe.concurrent('invalid --file-mode', () => {
  const message = 'must be an octal mode from 0600 to 0777 that lets the owner read and write, such as 0600 or 0660.';

  it.each(['999', '0400', '01660', 'rw-------'])('--file-mode %s: exit 2, one line, no database', async (mode) => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    const result = await cli(['--db', db, '--file-mode', mode, 'init']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tasklock: option '--file-mode <octal>' argument '${mode}' is invalid. ${message}\n`);
    expect(existsSync(db)).toBe(false);
  });

  it('TASKLOCK_FILE_MODE=0400: exit 2, one line naming the variable', async () => {
    const db = join(makeTempDir('tasklock-cli-'), 'q.db');
    const result = await cli(['--db', db, 'init'], { env: { TASKLOCK_FILE_MODE: '0400' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tasklock: TASKLOCK_FILE_MODE=0400 is invalid: ${message}\n`);
    expect(existsSync(db)).toBe(false);
  });
});

describe.concurrent('doctor and a database others can read', () => {
  it('warns (exit 0) about a 0644 database made by an older tasklock, naming the chmod to run; --json carries the modes', async () => {
    const dir = makeTempDir('tasklock-cli-');
    // What SQLite itself creates under umask 022; an empty file is an empty database.
    writeFileSync(join(dir, 'q.db'), '');
    chmodSync(join(dir, 'q.db'), 0o644);
    await ok(['--db', 'q.db', 'init'], { cwd: dir });
    expect(modeOf(join(dir, 'q.db'))).toBe('0644');

    const human = await cli(['--db', 'q.db', 'doctor'], { cwd: dir });
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    // The lock file is new, hence 0600; the -wal and -shm take the database's 0644.
    expect(human.stdout).toContain(
      'warn  file-modes   q.db, q.db-wal and q.db-shm are readable by others (mode 0644): chmod 600 q.db q.db-wal q.db-shm q.db.lock\n',
    );

    const json = await cli(['--db', 'q.db', '--json', 'doctor'], { cwd: dir });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.ok).toBe(true);
    const check = report.checks.find((c) => c.name === 'file-modes')!;
    expect(check).toMatchObject({ ok: true, warning: true });
    expect(modesByFile(check, join(dir, 'q.db'))).toEqual({ db: '0644', '-wal': '0644', '-shm': '0644', '.lock': '0600' });
  });

  it('a group-shared database others can write: keeps the group in the chmod it suggests', async () => {
    const dir = makeTempDir('tasklock-cli-');
    await ok(['--db', 'q.db', '--file-mode', '0666', 'init'], { cwd: dir });
    const human = await cli(['--db', 'q.db', 'doctor'], { cwd: dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      'warn  file-modes   q.db, q.db-wal, q.db-shm and q.db.lock are readable and writable by others (mode 0666): chmod 660 q.db q.db-wal q.db-shm q.db.lock\n',
    );
  });
});
