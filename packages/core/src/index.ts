export { openDatabase, type OpenOptions, type SynchronousMode } from './db/open.js';
export { SCHEMA_VERSION, MIGRATIONS } from './db/migrate.js';
export { TasklockDatabase } from './database.js';
export * from './errors.js';
export type { LockStrategy, LockStrategyOption } from './lock/lock-backend.js';
export { LOCK_STRATEGIES } from './lock/lock-backend.js';
export { WriteLock, type WriteLockOptions } from './lock/write-lock.js';
export { DEFAULT_RETRY, type RetryPolicy, type WriteOptions } from './write-transaction.js';
export { Histogram, type LatencySummary, type WriteMetricsSnapshot } from './metrics.js';
