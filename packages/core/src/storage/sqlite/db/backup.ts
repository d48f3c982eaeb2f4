import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BadInputError, PersistenceError, ReadOnlyError, TasklockError } from '../../../errors.js';
import { errorLineWithCode } from '../../../error-text.js';
import { vacuumInto } from '../sql/backup.js';
import { existingDirectoryOf } from './paths.js';
import type { BackupOptions, BackupResult } from '../../store.js';


/** Payloads often hold secrets: the copy is readable by its owner only, whatever the umask. */
const BACKUP_MODE = 0o600;

/**
 * Copies the database behind `db` (at `source`) to `dest` while other processes keep working.
 *
 * VACUUM INTO, not the backup API: it reads one snapshot in one read transaction, so it neither
 * restarts nor waits for writers (the backup API's 100-page steps restart on every commit of
 * another process: under a 4-worker drain they had not finished after 10 s, with ~2,500
 * restarts, in 2 runs of 3; scripts/bench-backup.mjs). It blocks this process's event
 * loop while it copies, like the one-step backup API would: run it from its own process (the
 * CLI), not inside a busy worker.
 *
 * The copy goes to a new 0600 temporary file beside `dest`, is fsynced, opened read-only and
 * checked with `PRAGMA integrity_check`, and only then takes the name `dest` (atomically, so an
 * earlier backup at `dest` survives any failure). The database files themselves are never
 * opened with fs (RELIABILITY.md rule 1): only `stat`, which opens nothing.
 */
export function backupDatabase(db: Database.Database, source: string, dest: string, options: BackupOptions = {}): BackupResult {
  const started = performance.now();
  const force = options.force ?? false;
  const target = checkDestination(source, dest, force);
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  createEmpty(temp, dest);
  let pages: number;
  try {
    try {
      vacuumInto(db, temp);
    } catch (error) {
      if (error instanceof TasklockError) throw error;
      throw new PersistenceError(`backup to ${dest} failed: ${errorLineWithCode(error)}`, { cause: error });
    }
    pages = checkCopy(temp, dest);
    try {
      syncPath(temp, 'r+');
    } catch (error) {
      throw ioError(`backup to ${dest}: cannot sync the copy to disk`, error);
    }
    publish(temp, target, dest, force);
  } catch (error) {
    rmSync(temp, { force: true });
    rmSync(`${temp}-journal`, { force: true });
    throw error;
  }
  syncDirectory(dirname(target));
  return {
    path: target,
    bytes: statSync(target).size,
    pages,
    durationMs: Math.round(performance.now() - started),
    integrity: 'ok',
  };
}

/** The absolute destination, or one clear refusal. */
function checkDestination(source: string, dest: string, force: boolean): string {
  if (typeof dest !== 'string' || dest.trim() === '') throw new BadInputError('backup destination is empty');
  const target = resolve(dest);
  const dir = existingDirectoryOf(target, `backup ${dest}`);
  // The database, its -wal/-shm/-journal or its lock: --force would rename the copy over them.
  const realTarget = join(realpathSync(dir), basename(target));
  const names = (file: string) => file === target || realName(file) === realTarget;
  if (names(source) || sameFile(target, source)) throw new BadInputError(`${dest} is the database itself: back up to another file`);
  if ([`${source}-wal`, `${source}-shm`, `${source}-journal`, `${source}.lock`].some(names)) {
    throw new BadInputError(`${dest} is one of the database's own files: back up to another file`);
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ReadOnlyError(`directory ${dir} is not writable: the backup is written to a temporary file there first`);
  }
  const existing = statOrNull(target);
  if (existing?.isDirectory()) throw new BadInputError(`${dest} is a directory (give a file name for the backup)`);
  if (existing !== null && !force) throw new BadInputError(`${dest} exists (use --force to replace it)`);
  return target;
}

/** Creates `temp` empty with BACKUP_MODE (VACUUM INTO accepts an empty file, and keeps its mode). */
function createEmpty(temp: string, dest: string): void {
  let fd: number;
  try {
    fd = openSync(temp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, BACKUP_MODE);
  } catch (error) {
    throw ioError(`backup to ${dest}: cannot create ${temp}`, error);
  }
  try {
    // open() already narrowed the mode by the umask; fchmod makes it exactly 0600 regardless.
    fchmodSync(fd, BACKUP_MODE);
  } catch (error) {
    rmSync(temp, { force: true });
    throw ioError(`backup to ${dest}: cannot set mode 0600 on ${temp}`, error);
  } finally {
    closeSync(fd);
  }
}

/** Opens the copy read-only (another file: no lock of the database is at stake) and checks it. */
function checkCopy(temp: string, dest: string): number {
  let copy: Database.Database;
  try {
    copy = new Database(temp, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new PersistenceError(`backup to ${dest}: cannot open the copy to check it: ${errorLineWithCode(error)}`, { cause: error });
  }
  try {
    const messages = (copy.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check);
    if (messages.length !== 1 || messages[0] !== 'ok') {
      const shown = `${messages.slice(0, 3).join('; ')}${messages.length > 3 ? ` (+${messages.length - 3} more)` : ''}`;
      throw new PersistenceError(
        `backup to ${dest} failed its integrity check (${shown}); ${dest} was left as it was — run tasklock doctor on the database`,
      );
    }
    return copy.pragma('page_count', { simple: true }) as number;
  } catch (error) {
    if (error instanceof TasklockError) throw error;
    throw new PersistenceError(`backup to ${dest}: checking the copy failed: ${errorLineWithCode(error)}`, { cause: error });
  } finally {
    copy.close();
  }
}

/**
 * Gives the checked copy its name. Without --force a hard link publishes it only if `target`
 * still does not exist (a file created there since the check is never overwritten); the temporary
 * name is then dropped. With --force, rename replaces the old file in one step.
 */
function publish(temp: string, target: string, dest: string, force: boolean): void {
  try {
    if (force) {
      renameSync(temp, target);
      return;
    }
    try {
      linkSync(temp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new BadInputError(`${dest} exists (use --force to replace it)`);
      // A filesystem without hard links: fall back to a rename, re-checking the name first.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      if (statOrNull(target) !== null) throw new BadInputError(`${dest} exists (use --force to replace it)`);
      renameSync(temp, target);
      return;
    }
    unlinkSync(temp);
  } catch (error) {
    if (error instanceof TasklockError) throw error;
    throw ioError(`backup to ${dest}: cannot move the copy into place`, error);
  }
}

/** SQLite does not fsync what VACUUM INTO wrote; a rename is durable once its directory is synced. */
function syncPath(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  try {
    syncPath(dir, 'r');
  } catch {
    // Some platforms and filesystems cannot fsync a directory; the copy itself is synced.
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Whether two paths name one inode (stat follows links and opens nothing). */
function sameFile(a: string, b: string): boolean {
  const [sa, sb] = [statOrNull(a), statOrNull(b)];
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** `file` with its directory's symlinks resolved (the file itself need not exist). */
function realName(file: string): string | null {
  try {
    return join(realpathSync(dirname(file)), basename(file));
  } catch {
    return null;
  }
}

function ioError(what: string, error: unknown): TasklockError {
  const code = (error as NodeJS.ErrnoException).code;
  const message = `${what}: ${errorLineWithCode(error)}`;
  return code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
    ? new ReadOnlyError(message, { cause: error })
    : new PersistenceError(message, { cause: error });
}
