import type Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type BackoffPolicy } from '../../backoff.js';
import { PersistenceError, TasklockError, LockLostError } from '../../errors.js';
import { isBusy, isTransientSqlite, sqliteCodeOf } from './sqlite-errors.js';
import type { WriteLock } from './lock/write-lock.js';
import type { WriteMetrics } from '../write-metrics.js';
import { beginWriteSeq, endWriteSeq } from './write-seq.js';

export interface RetryPolicy extends BackoffPolicy {
  /** Tries in all for a transaction that hits SQLITE_BUSY / SQLITE_LOCKED (or loses the lock). */
  attempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 10, maxDelayMs: 1000 };

export interface WriteContext {
  db: Database.Database;
  lock: WriteLock;
  metrics: WriteMetrics;
  retry: RetryPolicy;
  lockTimeoutMs: number;
}

export interface WriteOptions {
  /** Named in any error this transaction raises. */
  taskId?: number | undefined;
  /** What the transaction does, for error messages ("claim", "complete", "migrate"). */
  label?: string;
}

/**
 * The one way anything writes to the database:
 *   lock → BEGIN IMMEDIATE → fn → (lock still ours?) → COMMIT → unlock
 * `fn` is synchronous: nothing else of this process runs inside the transaction, and the lock
 * is held for exactly as long as SQLite's write lock. BEGIN IMMEDIATE, never a deferred
 * transaction: a deferred one that reads and then writes fails with SQLITE_BUSY_SNAPSHOT
 * ignoring busy_timeout. Busy errors are retried with jittered exponential backoff, the lock
 * released in between; anything else (SQLITE_FULL, SQLITE_IOERR, constraints, the caller's own
 * errors) rolls back and surfaces at once. Callers update in-memory state only after this
 * resolves, so a failed write leaves every view at the prior value.
 */
export async function writeTransaction<T>(
  context: WriteContext,
  fn: (db: Database.Database) => T,
  options: WriteOptions = {},
): Promise<T> {
  const { db, lock, metrics, retry } = context;
  for (let attempt = 1; ; attempt += 1) {
    const waitStarted = performance.now();
    try {
      await lock.acquire(context.lockTimeoutMs);
    } catch (error) {
      if (error instanceof TasklockError && error.code === 'lock-timeout') metrics.lockTimeouts += 1;
      throw error;
    }
    const heldSince = performance.now();
    metrics.lockWait.record(heldSince - waitStarted);
    try {
      const result = runImmediate(db, lock, fn);
      metrics.transactions += 1;
      return result;
    } catch (error) {
      if (!(isBusy(error) || error instanceof LockLostError) || attempt >= retry.attempts) {
        metrics.failures += 1;
        throw toTasklockError(error, options, attempt);
      }
    } finally {
      metrics.lockHold.record(performance.now() - heldSince);
      await lock.release();
    }
    metrics.busyRetries += 1;
    await sleep(backoffMs(retry, attempt));
  }
}

function runImmediate<T>(db: Database.Database, lock: WriteLock, fn: (db: Database.Database) => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    beginWriteSeq(db);
    const result = fn(db);
    if (isThenable(result)) {
      throw new TypeError('writeTransaction body returned a promise: transactions must be synchronous');
    }
    lock.assertHeld();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR_*): a ROLLBACK
    // then would fail, and any statement after it would run in autocommit outside our lock.
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    endWriteSeq(db);
  }
}

function toTasklockError(error: unknown, options: WriteOptions, attempts: number): unknown {
  if (error instanceof TasklockError) return error;
  const sqliteCode = sqliteCodeOf(error);
  if (sqliteCode === undefined) return error;
  const what = options.label ?? 'write';
  const task = options.taskId === undefined ? '' : ` (task ${options.taskId})`;
  const tries = isBusy(error) ? ` after ${attempts} attempts` : '';
  return new PersistenceError(`${what}${task} failed${tries}: ${sqliteCode}: ${(error as Error).message}`, {
    taskId: options.taskId,
    transient: isTransientSqlite(error),
    cause: error,
  });
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

