/**
 * `@tasklock/core`: the public API. The queue and the worker, their options and answers, the
 * task state machine, the error family, and the storage seam's types (for stores and tools).
 * Engine internals are not here: `@tasklock/core/sqlite` has the SQLite store's own API.
 */
export type { WaitOptions } from './task-waiter.js';
export type { EventStreamOptions, StreamEvent } from './event-stream.js';
export { Queue, type QueueOptions, type TaskPage, type EnqueuedTask, type Lease, type Outcome } from './queue.js';
export { DEFAULT_BULK_BATCH, type QueueStats, type BulkTarget, type BulkOptions, type BulkResult, type BulkSkip } from './admin.js';
export { readExport, type ExportOptions, type ImportResult, type ExportCounts, type ParsedExport } from './transfer/transfer.js';
export { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './transfer/format.js';
export { DEFAULT_WORKER_RETENTION_MS, type ReclaimOptions, type ReclaimResult } from './reclaim.js';
export type { WorkerView } from './worker-registry.js';
export { Worker, defaultWorkerId, warningsToStderr, type WorkerOptions, type WorkerStats, type TaskHandler, type TaskHandlers, type TaskContext, type WorkerLog, type WorkerLogLevel } from './worker.js';
export type { WorkerEventMap, WorkerEventName, WorkerListener, EventTask, TaskEvent, CompletedEvent } from './worker-events.js';
export type { TaskMap, TaskShape, LooseTasks, TaskTypeOf, TypedEnqueueItem, EnqueueArgs } from './task-map.js';
export type { EnqueueOptions, EnqueueItem, ClaimOptions, TaskFilter, ListFilter } from './validate.js';
export { DEFAULT_BACKOFF, backoffDelayMs, type Backoff, type Task, type ClaimedTask } from './task.js';
export { TASK_STATUSES, TERMINAL_STATUSES, TRANSITIONS, assertTransition, canTransition, isTaskStatus, isTerminal, transitionTableMarkdown, type TaskStatus, type TransitionName, type Transition } from './task-state.js';
export { STATUS_VIEWS, isStatusView, statusViewOf, type StatusView } from './status-view.js';
export * from './errors.js';
export { backoffMs, type BackoffPolicy } from './backoff.js';
export { StoreOutage, OUTAGE_BACKOFF } from './store-outage.js';
export { MAX_ERROR_BYTES, TaskFailure, errorSummary, errorText, firstLine, type ErrorTextOptions } from './error-text.js';
export { buildMetricsRegistry, type MetricsRegistryOptions } from './metrics/registry.js';
export { parseLocation, type StoreOptions } from './storage/open-store.js';
export type {
  TaskStore,
  StoreEngine,
  StoreDescription,
  ChangeSignal,
  ChangeTopic,
  DiagnosisCheck,
  DiagnoseOptions,
  StoreMonitor,
  MonitorOptions,
  MonitorSample,
  WriteMetricsSnapshot,
  LatencySummary,
  BucketCounts,
  BackupOptions,
  BackupResult,
} from './storage/store.js';
export { RUN_OUTCOMES, type TaskRecord, type TaskEventRow, type TaskRunRow, type RunOutcome, type WorkerRow, type Backlog, type TransitionCountRow } from './storage/rows.js';
export type { SqliteOptions } from './storage/sqlite/sqlite-store.js';
export type { SynchronousMode } from './storage/sqlite/db/open.js';
export { checkFileMode } from './storage/sqlite/file-mode.js';
export { LOCK_STRATEGIES, parseLockStrategy, type LockStrategy, type LockStrategyOption } from './storage/sqlite/lock/lock-backend.js';
export { currentProcess, isProcessAlive, type ProcessIdentity } from './process-identity.js';
