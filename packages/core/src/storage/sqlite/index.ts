/**
 * `@tasklock/core/sqlite`: the SQLite store's own API, for code that works on the database file
 * itself rather than through a queue — the store's tests, the benchmarks, the stress checker.
 * Applications use `Queue.open(path, { sqlite: … })` from `@tasklock/core` instead.
 */
export { SqliteStore, type SqliteOptions } from './sqlite-store.js';
export { openDatabase, type OpenOptions, type SynchronousMode } from './db/open.js';
export { TasklockDatabase } from './database.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './db/migrate.js';
export { WriteLock, type WriteLockOptions } from './lock/write-lock.js';
export { LOCK_STRATEGIES, type LockStrategy, type LockStrategyOption } from './lock/lock-backend.js';
export { DEFAULT_RETRY, type RetryPolicy, type WriteOptions } from './write-transaction.js';
export { Histogram } from '../write-metrics.js';
export { SqliteMonitor } from './monitor.js';
export { MONITOR_SQL } from './sql/monitor.js';
export { CLAIM_CANDIDATES_SQL } from './sql/claim.js';
export { HOT_PATH_SQL } from './sql/hot-path.js';
export { beginWriteSeq, endWriteSeq, registerWriteSeq } from './write-seq.js';
export { DEFAULT_FILE_MODE, checkFileMode, formatFileMode } from './file-mode.js';
export { sqliteCodeOf } from './sqlite-errors.js';
