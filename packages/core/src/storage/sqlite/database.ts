import type Database from 'better-sqlite3';
import { backupDatabase } from './db/backup.js';
import type { BackupOptions, BackupResult } from '../store.js';
import { DatabaseClosedError } from '../../errors.js';
import type { LockStrategy } from './lock/lock-backend.js';
import type { WriteLock } from './lock/write-lock.js';
import { WriteMetrics } from '../write-metrics.js';
import { writeTransaction, type RetryPolicy, type WriteOptions } from './write-transaction.js';

/**
 * An open tasklock database: one better-sqlite3 connection plus the process's share of the
 * write lock. Reads go straight to `connection`; every write goes through `write()`.
 */
export class TasklockDatabase {
  readonly metrics = new WriteMetrics();
  /** Migrations this open applied (empty when another process had already applied them). */
  appliedMigrations: readonly number[] = [];
  private closed = false;
  private writesInFlight = 0;

  constructor(
    readonly path: string,
    private readonly db: Database.Database,
    readonly lock: WriteLock,
    readonly retry: RetryPolicy,
    readonly lockTimeoutMs: number,
    readonly schemaVersion: number,
  ) {}

  /** The SQLite library's version, as it reports itself. */
  get engineVersion(): string {
    return (this.connection.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  }

  get lockStrategy(): LockStrategy {
    return this.lock.strategy;
  }

  /** The connection, for reads and for preparing statements. Never write through it directly. */
  get connection(): Database.Database {
    if (this.closed) throw new DatabaseClosedError();
    return this.db;
  }

  write<T>(fn: (db: Database.Database) => T, options?: WriteOptions): Promise<T> {
    if (this.closed) return Promise.reject(new DatabaseClosedError());
    this.writesInFlight += 1;
    return writeTransaction(
      { db: this.db, lock: this.lock, metrics: this.metrics, retry: this.retry, lockTimeoutMs: this.lockTimeoutMs },
      fn,
      options,
    ).finally(() => {
      this.writesInFlight -= 1;
      if (this.closed && this.writesInFlight === 0) this.release();
    });
  }

  /**
   * A consistent, integrity-checked copy of the database at `dest` (db/backup.ts), made while
   * other processes go on writing. Synchronous: it blocks this process while it copies.
   */
  backupTo(dest: string, options?: BackupOptions): BackupResult {
    return backupDatabase(this.connection, this.path, dest, options);
  }

  /**
   * No write starts after close(); one already waiting for or holding the lock finishes first,
   * and the connection and the lock descriptor go when it has (closing the descriptor under a
   * holder would let another process in beside it).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writesInFlight === 0) this.release();
  }

  private release(): void {
    try {
      this.db.close();
    } finally {
      this.lock.close();
    }
  }
}
