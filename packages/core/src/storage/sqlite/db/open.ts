import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TasklockDatabase } from '../database.js';
import {
  BadInputError,
  LockStrategyMismatchError,
  NotADatabaseError,
  PersistenceError,
  ReadOnlyError,
  SchemaTooNewError,
  StoreNotFoundError,
  TasklockError,
} from '../../../errors.js';
import { errorSummary } from '../../../error-text.js';
import { isBusy, sqliteCodeOf } from '../sqlite-errors.js';
import { checkFileMode, createWithMode, DEFAULT_FILE_MODE } from '../file-mode.js';
import type { LockStrategy, LockStrategyOption } from '../lock/lock-backend.js';
import { WriteLock } from '../lock/write-lock.js';
import { parseLockStrategy } from '../lock/lock-backend.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../../../backoff.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../write-transaction.js';
import { applyMigrations, SCHEMA_VERSION, schemaVersionOf } from './migrate.js';
import { existingDirectoryOf } from './paths.js';
import { registerWriteSeq } from '../write-seq.js';

export type SynchronousMode = 'NORMAL' | 'FULL' | 'EXTRA';

export interface OpenOptions {
  /** Write-lock strategy; default `auto` (OS lock → proper-lockfile → none). */
  lock?: LockStrategyOption;
  /** Fail instead of falling back to a weaker lock strategy. */
  lockRequired?: boolean;
  /** How long a write waits for the write lock before LockTimeoutError (default 30 s). */
  lockTimeoutMs?: number;
  /** proper-lockfile's stale threshold (default 10 s, at least 2 s). */
  lockStaleMs?: number;
  /** SQLite busy_timeout (default 5 s): only outside connections can make SQLite busy. */
  busyTimeoutMs?: number;
  /**
   * FULL (default) fsyncs the WAL at every commit: a finished task stays finished across power
   * loss. NORMAL survives process crashes but may lose the last commits on power loss.
   */
  synchronous?: SynchronousMode;
  retry?: Partial<RetryPolicy>;
  /**
   * Permissions of the database and lock files tasklock creates (default 0o600, owner only;
   * 0o660 for a group sharing the queue). SQLite gives the -wal and -shm the database's mode.
   * An existing file keeps its mode.
   */
  fileMode?: number;
  /** false: refuse (StoreNotFoundError) rather than create a database that does not exist yet. */
  create?: boolean;
  /** Re-record the lock strategy (only with every other process on this database stopped). */
  resetLockStrategy?: boolean;
  /** Where warnings go (lock fallback); default stderr. */
  onWarning?: (message: string) => void;
}

/**
 * Opens (creating if needed) and migrates a tasklock database. The only place pragmas are set.
 * Refuses, with one clear message each: a missing directory, a read-only directory, a file that
 * is not a SQLite database, a schema newer than this code, a lock strategy that does not match
 * the one the database was set up with.
 */
export async function openDatabase(path: string, options: OpenOptions = {}): Promise<TasklockDatabase> {
  const file = checkPath(path);
  const synchronous = options.synchronous ?? 'FULL';
  if (!['NORMAL', 'FULL', 'EXTRA'].includes(synchronous)) {
    throw new BadInputError(`synchronous must be NORMAL, FULL or EXTRA, not ${String(synchronous)}`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  for (const [name, value] of [
    ['busyTimeoutMs', busyTimeoutMs],
    ['lockTimeoutMs', lockTimeoutMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new BadInputError(`${name} must be a non-negative integer`);
  }
  const fileMode = checkFileMode(options.fileMode ?? DEFAULT_FILE_MODE);

  if (options.create === false && !existsSync(file)) throw new StoreNotFoundError(file);
  createDatabaseFile(file, fileMode);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw translateOpenError(error, file);
  }
  let lock: WriteLock | undefined;
  try {
    // Refuse a newer schema before configure() writes anything: switching a rollback-journal
    // database to WAL rewrites its header, and a refused file must stay exactly as it was.
    const found = schemaVersionOf(db);
    if (found > SCHEMA_VERSION) throw new SchemaTooNewError(file, found, SCHEMA_VERSION);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    await switchToWal(db, file, busyTimeoutMs, retry);
    configure(db, synchronous);
    lock = WriteLock.open(file, {
      strategy: options.lock ?? 'auto',
      required: options.lockRequired ?? false,
      staleMs: options.lockStaleMs ?? 10_000,
      fileMode,
      recorded: options.resetLockStrategy ? null : recordedStrategy(db),
      onWarning: options.onWarning ?? ((message) => process.stderr.write(`${message}\n`)),
    });
    const handle = new TasklockDatabase(
      file,
      db,
      lock,
      retry,
      lockTimeoutMs,
      SCHEMA_VERSION,
    );
    const strategy = lock.strategy;
    handle.appliedMigrations = await handle.write(
      (conn) => {
        const version = schemaVersionOf(conn);
        if (version > SCHEMA_VERSION) throw new SchemaTooNewError(file, version, SCHEMA_VERSION);
        const applied = applyMigrations(conn);
        recordStrategy(conn, file, strategy, options.resetLockStrategy ?? false);
        return applied;
      },
      { label: 'migrate' },
    );
    return handle;
  } catch (error) {
    db.close();
    lock?.close();
    throw translateOpenError(error, file);
  }
}

function checkPath(path: string): string {
  if (typeof path !== 'string' || path.trim() === '') throw new BadInputError('database path is empty');
  if (path === ':memory:' || path.startsWith('file:')) {
    throw new BadInputError('tasklock needs a database file on disk that several processes can share');
  }
  const file = resolve(path);
  const dir = existingDirectoryOf(file, `database ${file}`);
  try {
    if (statSync(file).isDirectory()) throw new BadInputError(`${file} is a directory, not a database file`);
  } catch (error) {
    if (error instanceof TasklockError) throw error;
  }
  try {
    // WAL needs to create -wal and -shm beside the database, and the lock lives there too.
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ReadOnlyError(`directory ${dir} is not writable: tasklock needs to create ${file}-wal, -shm and .lock there`);
  }
  return file;
}

/**
 * SQLite would create a new database file itself with 0o644 & ~umask — readable by every local
 * user — and better-sqlite3 offers no mode, so a new file is created here first, with exactly
 * `mode` (an empty file is a valid empty database). An existing file is not touched.
 */
function createDatabaseFile(file: string, mode: number): void {
  let fd: number | null;
  try {
    fd = createWithMode(file, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new ReadOnlyError(`cannot create ${file}: ${code}`, { cause: error });
    }
    throw new PersistenceError(`cannot create ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (fd !== null) closeSync(fd);
}

/**
 * WAL before anything else. Switching a new (rollback-journal) file to WAL needs SQLite's
 * EXCLUSIVE lock while this connection holds SHARED; when another connection holds or wants
 * RESERVED — several processes opening a new file at once — SQLite returns SQLITE_BUSY at once
 * instead of calling the busy handler (waiting could deadlock), so busy_timeout does not cover
 * it. The switch is idempotent and runs before the write lock exists (the lock strategy is read
 * from the database), so it is retried with backoff for up to busy_timeout.
 */
async function switchToWal(db: Database.Database, file: string, busyTimeoutMs: number, retry: RetryPolicy): Promise<void> {
  const deadline = performance.now() + busyTimeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new PersistenceError(`${file}: could not switch to WAL journal mode (got ${String(mode)})`);
      }
      return;
    } catch (error) {
      const left = deadline - performance.now();
      if (!isBusy(error) || left <= 0) throw error;
      await sleep(Math.min(left, backoffMs(retry, attempt)));
    }
  }
}

/** The other pragmas every connection needs (WAL is set first, by switchToWal). */
function configure(db: Database.Database, synchronous: SynchronousMode): void {
  registerWriteSeq(db);
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  // Checkpoints stay automatic (every ~1000 pages) so the WAL stays bounded under load.
  db.pragma('wal_autocheckpoint = 1000');
}

function recordedStrategy(db: Database.Database): LockStrategy | null {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return null;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'lock_strategy'").get() as { value: string } | undefined;
  if (row === undefined) return null;
  // Read before migrations run: a database of schema 2 or earlier still says `flock`.
  const strategy = parseLockStrategy(row.value);
  return strategy === 'auto' ? null : strategy;
}

function recordStrategy(db: Database.Database, file: string, strategy: LockStrategy, reset: boolean): void {
  const recorded = recordedStrategy(db);
  if (recorded !== null && recorded !== strategy && !reset) {
    throw new LockStrategyMismatchError(
      `${file} is used with lock strategy ${recorded} but this process would use ${strategy}: ` +
        'processes with different strategies do not exclude each other (use the same --lock, or ' +
        'stop every process and re-run init with --reset-lock-strategy)',
    );
  }
  db.prepare("INSERT INTO meta (key, value) VALUES ('lock_strategy', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(strategy);
}

/** Open-time failures say what is wrong with the file, whichever layer noticed it. */
function translateOpenError(error: unknown, file: string): unknown {
  if (error instanceof TasklockError && !(error instanceof PersistenceError)) return error;
  const code = error instanceof TasklockError ? error.engineCode : sqliteCodeOf(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return new NotADatabaseError(file, { cause: error });
  if (code?.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN') {
    return new ReadOnlyError(`cannot open ${file} for writing: ${code}: ${errorSummary(error)}`, { cause: error });
  }
  if (error instanceof PersistenceError || code === undefined) return error;
  return new PersistenceError(`cannot open ${file}: ${code}: ${errorSummary(error)}`, { cause: error });
}
