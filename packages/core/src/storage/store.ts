/**
 * The storage seam. The queue and the worker above it know this interface and nothing else of
 * the engine: every operation is one transaction of its own (or one consistent read), named for
 * what it does to tasks, and answers with the store-neutral rows of rows.ts. No connection,
 * statement or transaction type crosses it, so nothing above can hold a transaction open across
 * an await — how a store keeps its transactions short is its own rule.
 *
 * Contract every store keeps (test/conformance/ checks it for each):
 *  - Each write is atomic: it happens whole or not at all, and a write that failed left nothing
 *    behind (it rejects with a TasklockError: PersistenceError with `transient` set when trying
 *    again later may succeed, LockTimeoutError, ReadOnlyError…, the engine's own error as `cause`).
 *  - Every move of a task is one of task-state.ts's transitions, written as a conditional update
 *    that repeats the status it moves from and, for fenced moves, the lease token; the same
 *    transaction closes or opens the attempt's run and appends the event.
 *  - A refused move writes nothing and answers with the typed refusal (TaskNotFoundError,
 *    InvalidTransitionError, LeaseLostError) read in the same transaction.
 */
import type { TasklockError } from '../errors.js';
import type { StatusView } from '../status-view.js';
import type { TaskStatus } from '../task-state.js';
import type { EventCursor } from './event-cursor.js';
import type {
  Backlog,
  CounterRow,
  CounterTotalRow,
  CountRow,
  FilterInput,
  HandlerProcess,
  HeldTask,
  LoggedEventRow,
  NewTask,
  NewWorker,
  TaskEventRow,
  TaskRecord,
  TaskRow,
  TaskRunRow,
  TransitionCountRow,
  WorkerRow,
} from './rows.js';

export interface TaskStore {
  // ── Moves of tasks: one transaction each ────────────────────────────────────────────────
  /** Inserts the tasks, all or none; a live task holding a task's unique key is answered instead (created: false). */
  enqueue(tasks: readonly NewTask[], now: number): Promise<{ row: TaskRow; created: boolean }[]>;
  /** pending (due) → running, up to `limit`, in claim order (priority desc, run_at, id), each under a new lease. */
  claim(input: ClaimInput): Promise<TaskRow[]>;
  /** Extends one lease and writes the attempt's report (progress, counter deltas) with it; rejects with the refusal, having written nothing. */
  heartbeat(lease: LeaseRef, leaseMs: number, report: AttemptReport): Promise<void>;
  /**
   * Refreshes the worker's last_seen and extends the leases it names that it still holds;
   * answers those (id → token). Only named leases: a task the worker holds without knowing it (a
   * claim that committed while its answer was lost with the connection) is not kept alive by the
   * heartbeat, so its lease runs out and the sweep hands it on — never "running" forever.
   */
  heartbeatWorker(workerId: string, leaseMs: number, taskIds: readonly number[]): Promise<Map<number, string>>;
  /**
   * Ends attempts, many in one transaction: index for index, the task's new status or the
   * refusal (which does not stop the others). Rejects, having written nothing, if the transaction fails.
   */
  finish(outcomes: readonly FinishInput[]): Promise<(TaskStatus | TasklockError)[]>;
  /**
   * finish(outcomes), then claim(next), in one transaction: a busy worker hands in its finished
   * attempts and takes its next batch with one write (one lock hand-over) instead of two.
   */
  finishAndClaim(outcomes: readonly FinishInput[], next: ClaimInput): Promise<{ statuses: (TaskStatus | TasklockError)[]; claimed: TaskRow[] }>;
  /** Operator cancel of one task (pending or running); rejects with the refusal. */
  cancel(id: number, reason: string | null): Promise<void>;
  /** Operator retry of one task (failed or cancelled); rejects with the refusal. */
  retry(id: number): Promise<void>;
  /** cancel/retry of many, in transactions of `batchSize`, each task moved as the single move would. */
  moveMany(move: BulkMove, target: MoveTarget, options: MoveManyOptions): Promise<MoveManyResult>;
  /** Deletes tasks in `statuses` (terminal ones) last updated at or before `cutoff`, with their runs and events. */
  purge(statuses: readonly TaskStatus[], cutoff: number): Promise<number>;
  /**
   * The sweep's write: re-reads the candidates (as reclaimCandidates) and hands on each one
   * `detail` answers for — running → pending, or failed once its attempts are used up — closing
   * its run as `reclaimed`; then marks the dead workers crashed and prunes ended worker rows.
   * `detail` runs inside the transaction: it must be synchronous and must not fail.
   */
  reclaim(input: ReclaimInput): Promise<ReclaimWrite>;
  /**
   * Someone waits for these tasks to end (waitFor): a store whose change signal for ends is not
   * woken by every commit makes their ends wake it (PostgreSQL: tasks.awaited). Before the
   * waiter's first read of them.
   */
  awaitEnds(ids: readonly number[]): Promise<void>;
  /** Records the handler's process group on the lease's current run, once per attempt; rejects with the refusal. */
  recordHandler(lease: LeaseRef, handler: HandlerProcess): Promise<void>;
  /** Inserts or revives a worker row. */
  registerWorker(worker: NewWorker): Promise<void>;
  /** Marks a worker stopped (graceful), unless it already ended. */
  stopWorker(id: string, now: number): Promise<void>;
  /**
   * Writes whole tasks as they were in another store (transfer/): rows, runs and stored events,
   * ids kept, all in one transaction. Refuses (BadInputError, nothing written) when a task id
   * exists here or a live task here holds a live task's unique key. Later enqueues get ids past
   * the imported ones.
   */
  importTasks(records: readonly TaskRecord[]): Promise<void>;

  // ── Reads: a consistent snapshot each, no write lock ────────────────────────────────────
  get(id: number): Promise<TaskRow | undefined>;
  /** Up to `limit` tasks matching `filter` after the cursor id, by id in `order`. */
  list(filter: FilterInput, order: 'asc' | 'desc', afterId: number | null, limit: number, now: number): Promise<TaskRow[]>;
  runs(id: number): Promise<TaskRunRow[]>;
  /** The counters of these tasks (ctx.count's sums), by task id then name. */
  counters(ids: readonly number[]): Promise<CounterRow[]>;
  events(id: number): Promise<TaskEventRow[]>;
  /**
   * The whole log after `after` (a cursor this store gave; START: from the beginning), in
   * delivery order (event-cursor.ts), up to `limit`: only events that nothing committed later
   * can come before (on a server, those of transactions older than every one still open), so a
   * reader that goes on from the last cursor it was given misses nothing and sees nothing twice.
   */
  eventLog(after: EventCursor, limit: number): Promise<LoggedEventRow[]>;
  /** Up to `limit` tasks matching `filter` with id > `afterId`, by id, each whole (TaskRecord): one consistent read. */
  exportPage(filter: FilterInput, afterId: number, limit: number, now: number): Promise<TaskRecord[]>;
  workers(): Promise<WorkerRow[]>;
  /** Workers of `host` not yet ended, or ended but still holding running tasks (a stop may have raced a claim). */
  workersOnHost(host: string): Promise<WorkerRow[]>;
  /**
   * Workers of other hosts than `host`, not ended, whose heartbeat (last_seen) is older than their
   * own dead_after_ms by the store's clock (the server's on a server store): dead as far as any
   * other host can tell, since only a worker's own host can ask after its pid.
   */
  silentWorkers(host: string, now: number): Promise<WorkerRow[]>;
  /** What the reclaim sweep would look at: the dead workers' tasks, then expired leases (oldest first, `limit`). */
  reclaimCandidates(deadWorkerIds: readonly string[], now: number, limit: number): Promise<HeldTask[]>;
  /** Whether ended worker rows older than `cutoff`, holding no task, exist (the sweep writes only when there is work). */
  anyPrunableWorkers(cutoff: number): Promise<boolean>;
  stats(now: number): Promise<StoreCounts>;
  /** Each transition's count per task type over the stored tasks' event log (a full scan: for snapshots, not loops). */
  transitionCounts(): Promise<TransitionCountRow[]>;
  /** Due, running and scheduled tasks of a queue/types, and when the next scheduled one comes due. */
  backlog(queue: string, types: readonly string[] | null, now: number): Promise<Backlog>;
  /** Whether a task of this queue/types is claimable now (stops at the first). */
  hasDue(queue: string, types: readonly string[] | null, now: number): Promise<boolean>;
  /**
   * How long until the earliest pending task of this queue/types is due, by the store's clock
   * (≤ 0: one is due now); null when none. A client sleeps this long on its own timers, so a
   * client clock that is off cannot make it sleep too long or spin.
   */
  nextDueInMs(queue: string, types: readonly string[] | null, now: number): Promise<number | null>;
  /** Pending (due or scheduled) + running tasks of this queue/types. */
  liveCount(queue: string, types: readonly string[] | null): Promise<number>;

  // ── The store itself ───────────────────────────────────────────────────────────────────
  /**
   * A new signal that wakes its waiter when another process may have written (close it when done):
   * `'due'` (the default) a write that may make a task due, `'end'` one that may have ended a task
   * (complete, fail, cancel, reclaim), `'any'` either. A store may wake on any write for every
   * topic (SQLite's WAL watch does).
   */
  changeSignal(topic?: ChangeTopic): ChangeSignal;
  /** A live view's sampler (stats --watch): bounded by the live set and what changed since the last sample. */
  monitor(options?: MonitorOptions): StoreMonitor;
  describe(): StoreDescription;
  /** The checks `doctor` prints (one empty write, then reads). */
  diagnose(options: DiagnoseOptions): Promise<DiagnosisCheck[]>;
  /** The writes made through this store handle so far (each Queue.open has its own). */
  writeMetrics(): WriteMetricsSnapshot;
  /** Lock wait and hold of those writes as cumulative counts at each bound (ms), for a histogram export. */
  writeLatencyBuckets(boundsMs: readonly number[]): { lockWaitMs: BucketCounts; lockHoldMs: BucketCounts };
  /** A consistent, checked copy of the whole store at `dest` while others keep writing. */
  backup(dest: string, options: BackupOptions): Promise<BackupResult>;
  /** No write starts after close(); those in flight finish first. */
  close(): void;
}

/** A task the caller holds: its id and the lease token that fences writes about it. */
export interface LeaseRef {
  id: number;
  leaseToken: string;
}

export interface ClaimInput {
  workerId: string;
  queue: string;
  /** null: every type. */
  types: readonly string[] | null;
  limit: number;
  /** The lease runs from the moment of the claim's transaction (the store's clock), not of the call. */
  leaseMs: number;
}

/**
 * What an attempt reports beside its lease (ctx.progress, ctx.count), written only where its
 * fence holds: with a heartbeat, or in the transaction of the attempt's outcome.
 */
export interface AttemptReport {
  /** The latest progress as JSON text; null keeps the stored one. */
  progress: string | null;
  /** Deltas to add to the task's counters, one per name (the worker sums them first). */
  counts: readonly CounterDelta[];
}

export interface CounterDelta {
  name: string;
  delta: number;
}

/**
 * One attempt's end: `result` is JSON text (complete); `error` the failure's text (fail).
 * `report`: the attempt's last unwritten progress and counts, written with the outcome if it is
 * accepted (any kind: tokens spent by a failed attempt were spent) and dropped with it if refused.
 */
export type FinishInput = (
  | { kind: 'complete'; lease: LeaseRef; workerId: string; result: string }
  | { kind: 'fail'; lease: LeaseRef; workerId: string; error: string }
  | { kind: 'release'; lease: LeaseRef; workerId: string }
) & { report?: AttemptReport };

export type BulkMove = 'cancel' | 'retry';

/** Named ids (each checked in its batch), or a validated filter already narrowed to what the move starts from. */
export type MoveTarget = { ids: readonly number[] } | { filter: FilterInput };

export interface MoveManyOptions {
  dryRun: boolean;
  batchSize: number;
  /** cancel: why, recorded on the run and the event. */
  reason: string | null;
}

export interface MoveSkip {
  id: number;
  reason: 'not-found' | 'invalid-transition';
  /** The status that refused the move; null when the task does not exist. */
  status: TaskStatus | null;
}

export interface MoveManyResult {
  changed: number[];
  skipped: MoveSkip[];
  transactions: number;
}

export interface ReclaimInput {
  /** Workers whose process is gone (the pid check on their own host). */
  deadWorkerIds: readonly string[];
  /**
   * Workers found silent (silentWorkers): the store counts each as dead only if its heartbeat is
   * still older than its bound inside the transaction — one that heartbeat since keeps its tasks.
   */
  silentWorkerIds: readonly string[];
  /** Expired leases taken per sweep. */
  limit: number;
  /** The reclaim's text (last_error, run, event) for a candidate, or null to leave it running this time. */
  detail(task: HeldTask, now: number): string | null;
  /** Recorded as crashed_by of the dead workers (both kinds). */
  crashedBy: string;
  /** Ended worker rows at or before this time, holding no task, are deleted. */
  pruneBefore: number;
}

export interface ReclaimWrite {
  /** The tasks handed on, with where each went. */
  reclaimed: { task: HeldTask; status: TaskStatus }[];
  /** The silent workers the transaction confirmed (still silent past their bound), now crashed. */
  silentDead: string[];
  pruned: number;
}

export interface StoreCounts {
  counts: CountRow[];
  /** Every counter summed per task type. */
  counters: CounterTotalRow[];
  /** Earliest run_at of a due pending task; null when none. */
  oldestDueRunAt: number | null;
  /** Running tasks whose lease has expired. */
  overdueLeases: number;
}

/** Engine, where it lives and how it excludes writers: what `init`, `doctor` and logs print. */
/** The engines a store can run on (one more with each store). */
export type StoreEngine = 'sqlite' | 'postgres';

export interface StoreDescription {
  engine: StoreEngine;
  /** The engine's own version (SQLite's library version). */
  engineVersion: string;
  /** Where the data lives: a database file path. */
  location: string;
  /** How writers exclude one another (SQLite: the write-lock strategy and its lock file). */
  lock: { strategy: string; path: string };
  schemaVersion: number;
  /** Schema versions this process's open applied (empty: it was up to date). */
  appliedMigrations: readonly number[];
}

/** What a change signal listens for (TaskStore.changeSignal). */
export type ChangeTopic = 'due' | 'end' | 'any';

/**
 * Wakes a waiter when another process may have written: the WAL watch on SQLite (LISTEN/NOTIFY
 * on a server store). A hint, never a promise: waiters look again on their own schedule too.
 */
export interface ChangeSignal {
  /**
   * Notice other handles' changes from now until unlisten(): one that comes while nobody waits
   * wakes the next wait. A signal starts deaf (only notify() and the timeout wake it): a busy
   * worker has no use for other writers' commits, and being woken by each of them nearly halved its
   * throughput (4 workers, batch 32: 10.4k → 19.1k tasks/s once busy workers stopped listening). Listen before the read that found nothing to do,
   * so that a change committed after that read is not missed: listen() resolves once changes
   * are heard (at once for a file watch; after LISTEN has run on a server).
   */
  listen(): Promise<void>;
  unlisten(): void;
  /** Resolves true when woken by a change (while listening) or notify(), false when `timeoutMs` ran out. */
  waitForChange(timeoutMs: number): Promise<boolean>;
  /** Wakes the current waiter (this process changed something, or is stopping). */
  notify(): void;
  close(): void;
}

export interface DiagnoseOptions {
  /** The location as the user wrote it, for commands they can paste. */
  locationAsGiven?: string;
  /** A server store: transactions holding locks on tasklock's tables longer than this fail (default 30 s). */
  longTransactionMs?: number;
}

/** One check of `doctor`: what the store (or the queue) found, and what to do about it. */
export interface DiagnosisCheck {
  name: string;
  ok: boolean;
  /** Worth acting on, but not wrong in itself: printed as `warn`, and the exit code stays 0. */
  warning?: boolean;
  detail: string;
  /** file-modes: each file checked, with its mode as chmod writes it ("0600"). */
  files?: { path: string; mode: string }[];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** A latency histogram as Prometheus exports it: `cumulative[i]` values were ≤ the i-th bound; `count`, `sum` of all (ms). */
export interface BucketCounts {
  cumulative: number[];
  count: number;
  sum: number;
}

/** What one process has seen of its own writes; `stats` and the stress harness read it. */
export interface WriteMetricsSnapshot {
  transactions: number;
  /** Transactions tried again because the engine said busy. */
  busyRetries: number;
  lockTimeouts: number;
  failures: number;
  /** Waiting for the right to write (SQLite: the write lock). */
  lockWaitMs: LatencySummary;
  /** Holding it: the transaction itself. */
  lockHoldMs: LatencySummary;
}

export interface MonitorOptions {
  /** How often the finished counts are recounted in full (a purge deletes without an event); default 60 s. */
  rebaseEveryMs?: number;
}

export interface StoreMonitor {
  sample(): Promise<MonitorSample>;
}

export interface MonitorSample {
  at: number;
  counts: Record<StatusView, number>;
  byType: Record<string, Record<StatusView, number>>;
  /** Tasks that reached succeeded or failed since the previous sample. */
  finished: number;
  /** `finished` per second over the interval; null on the first sample (no interval yet). */
  finishedPerSecond: number | null;
  /** How long the oldest due pending task has waited, ms (0 when none). */
  oldestDueAgeMs: number;
  /** Running tasks per worker id. */
  runningByWorker: Record<string, number>;
  /** Failed attempts (handler errors, timeouts, reclaimed leases) in the last 60 s; `final`: of those, the task's last. */
  failuresLastMinute: { attempts: number; final: number };
}

export interface BackupOptions {
  /** Replace an existing file at the destination (only once the new copy has passed its check). */
  force?: boolean;
}

export interface BackupResult {
  /** The copy, as an absolute path. */
  path: string;
  bytes: number;
  pages: number;
  /** Checks, copy, integrity check and publication together. */
  durationMs: number;
  integrity: 'ok';
}
