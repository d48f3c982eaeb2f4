export { openDatabase, type OpenOptions, type SynchronousMode } from './storage/sqlite/db/open.js';
export { SCHEMA_VERSION, MIGRATIONS } from './storage/sqlite/db/migrate.js';
export { TasklockDatabase } from './storage/sqlite/database.js';
export * from './errors.js';
export { backoffMs, type BackoffPolicy } from './backoff.js';
export type { ChangeSignal, DiagnosisCheck, StoreDescription } from './storage/store.js';
export { MAX_ERROR_BYTES, TaskFailure, errorSummary, errorText, firstLine, type ErrorTextOptions } from './error-text.js';
export { DEFAULT_FILE_MODE, checkFileMode, formatFileMode } from './storage/sqlite/file-mode.js';
export type { LockStrategy, LockStrategyOption } from './storage/sqlite/lock/lock-backend.js';
export { LOCK_STRATEGIES } from './storage/sqlite/lock/lock-backend.js';
export { WriteLock, type WriteLockOptions } from './storage/sqlite/lock/write-lock.js';
export { DEFAULT_RETRY, type RetryPolicy, type WriteOptions } from './storage/sqlite/write-transaction.js';
export { Histogram, type LatencySummary, type WriteMetricsSnapshot } from './storage/sqlite/metrics.js';
export { Queue, type QueueOptions, type QueueStats, type TaskPage, type EnqueuedTask, type Lease, type Outcome, type RecoverResult, type RecoverOptions, DEFAULT_WORKER_RETENTION_MS } from './queue.js';
export type { BackupOptions, BackupResult } from './storage/sqlite/db/backup.js';
export { Worker, defaultWorkerId, type WorkerOptions, type WorkerStats, type TaskHandler, type TaskContext, type WorkerLog, type WorkerLogLevel } from './worker.js';
export type { EnqueueOptions, EnqueueItem, ClaimOptions, TaskFilter, ListFilter } from './validate.js';
export { STATUS_VIEWS, isStatusView, statusViewOf, type StatusView } from './status-view.js';
export { DEFAULT_BULK_BATCH, type BulkOptions, type BulkResult, type BulkSkip, type BulkTarget } from './storage/sqlite/bulk.js';
export { TASK_STATUSES, TERMINAL_STATUSES, TRANSITIONS, assertTransition, canTransition, isTaskStatus, isTerminal, transitionTableMarkdown, type TaskStatus, type TransitionName, type Transition } from './task-state.js';
export { DEFAULT_BACKOFF, backoffDelayMs, type Backoff, type Task, type ClaimedTask } from './task.js';
export type { TaskEventRow } from './storage/sqlite/sql/events.js';
export type { TaskRunRow, RunOutcome } from './storage/sqlite/sql/runs.js';
export type { WorkerRow } from './storage/sqlite/sql/workers.js';
export type { Backlog } from './storage/sqlite/sql/read.js';
export { CLAIM_CANDIDATES_SQL } from './storage/sqlite/sql/claim.js';
export { QueueMonitor, type MonitorSample } from './storage/sqlite/monitor.js';
export { MONITOR_SQL } from './storage/sqlite/sql/monitor.js';
export {
  currentProcess,
  isAliveByStat,
  isProcessAlive,
  parseProcStat,
  processStart,
  type ProcessIdentity,
  type ProcStat,
} from './process-identity.js';
