import { TaskNotFoundError, TasklockError } from './errors.js';
import * as admin from './admin.js';
import * as reclaim from './reclaim.js';
import * as registry from './worker-registry.js';
import * as transfer from './transfer/transfer.js';
import { TaskWaiter, type WaitOptions } from './task-waiter.js';
import { eventStream, validateStreamOptions, type EventStreamOptions, type StreamEvent } from './event-stream.js';
import { openStore, type StoreOptions } from './storage/open-store.js';
import type { TaskEventRow, TaskRunRow } from './storage/rows.js';
import type {
  AttemptReport,
  BackupOptions,
  BackupResult,
  ChangeSignal,
  ChangeTopic,
  DiagnosisCheck,
  DiagnoseOptions,
  FinishInput,
  LeaseRef,
  StoreDescription,
  StoreMonitor,
  MonitorOptions,
  TaskStore,
  WriteMetricsSnapshot,
} from './storage/store.js';
import type { TaskStatus } from './task-state.js';
import { JsonText, toClaimedTask, toJsonText, toTask, type ClaimedTask, type Task } from './task.js';
import type { EnqueueArgs, LooseTasks, TaskMap, TypedEnqueueItem } from './task-map.js';
import { integerAtLeast, MIN_LEASE_MS, validateClaim, validateCounts, validateEnqueue, validateList, type ClaimOptions, type EnqueueOptions, type ListFilter } from './validate.js';
import { loadOpenTelemetry } from './tracing/opentelemetry.js';
import { activeTraceContext } from './tracing/trace-context.js';

export interface QueueOptions extends StoreOptions {
  /** Largest payload accepted, in bytes of JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Largest result stored, in bytes of JSON (default 1 MiB). */
  maxResultBytes?: number;
}

export type EnqueuedTask = Task & { created: boolean };

/** A task this caller holds: its id and the lease token that fences writes about it. */
export type Lease = LeaseRef;

/** `report`: the attempt's progress and counts still to write, written with the outcome if it is accepted (store.ts FinishInput). */
export type Outcome = (
  | { kind: 'complete'; lease: Lease; workerId: string; result: unknown }
  | { kind: 'fail'; lease: Lease; workerId: string; error: string }
  | { kind: 'release'; lease: Lease; workerId: string }
) & { report?: AttemptReport };

/** One page of `listPage`: `next` is the cursor (afterId) of the following page, null on the last. */
export interface TaskPage {
  tasks: Task[];
  next: number | null;
}

const MiB = 1024 * 1024;

/**
 * The queue API, over any TaskStore. Here: validation, JSON, mapping rows to tasks, typed
 * errors. Below (storage/): transactions, SQL, locks. The store is the only truth: nothing here
 * caches task state, and every write is one store operation — one transaction whose moves are
 * task-state.ts's transitions, each a conditional write whose refusal is a typed error.
 * Operator moves live in admin.ts, the worker registry in worker-registry.ts, the sweep that
 * takes back abandoned tasks in reclaim.ts; the methods here hand over to them.
 *
 * `Tasks` (task-map.ts) types enqueue's payload by task type and a worker's handler map; reads
 * (get, list) stay loose: what a stored task holds is not known to the compiler.
 */
export class Queue<Tasks extends TaskMap<Tasks> = LooseTasks> {
  private readonly maxPayloadBytes: number;
  /** Largest result (and progress) stored, in bytes of JSON; a worker checks its handlers' results against it. */
  readonly maxResultBytes: number;
  private readonly waiter: TaskWaiter;

  /** `store`: the seam; a queue made over a store it did not open leaves closing it to its caller. */
  constructor(
    readonly store: TaskStore,
    options: Pick<QueueOptions, 'maxPayloadBytes' | 'maxResultBytes'> = {},
    private readonly ownsStore = false,
  ) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? MiB;
    this.maxResultBytes = options.maxResultBytes ?? MiB;
    this.waiter = new TaskWaiter(store);
  }

  /** Opens the store at `location` (a file path or a `sqlite:` URL), creating and migrating it if needed. */
  static async open<Tasks extends TaskMap<Tasks> = LooseTasks>(location: string, options: QueueOptions = {}): Promise<Queue<Tasks>> {
    const store = await openStore(location, options);
    return new Queue<Tasks>(store, options, true);
  }

  close(): void {
    this.waiter.close();
    if (this.ownsStore) this.store.close();
  }

  async enqueue(...[type, payload, options = {}]: EnqueueArgs<Tasks>): Promise<EnqueuedTask> {
    const [task] = await this.enqueueMany([{ ...options, type, payload } as TypedEnqueueItem<Tasks>]);
    return task!;
  }

  /**
   * All or nothing: one transaction; any invalid item rejects the whole batch before writing.
   * With @opentelemetry/api installed, the active span's context is stored with each task.
   */
  async enqueueMany(items: readonly TypedEnqueueItem<Tasks>[]): Promise<EnqueuedTask[]> {
    const otel = await loadOpenTelemetry();
    const traceContext = otel === null ? null : activeTraceContext(otel);
    const now = Date.now();
    const rows = items.map((item, index) => validateEnqueue(item, now, this.maxPayloadBytes, index, items.length, traceContext));
    const created = await this.store.enqueue(rows, now);
    return created.map(({ row, created: isNew }) => Object.assign(toTask(row), { created: isNew }));
  }

  /** Up to `limit` tasks in one transaction, highest priority first, then oldest run_at, then id. */
  async claim(options: ClaimOptions): Promise<ClaimedTask[]> {
    const rows = await this.store.claim(validateClaim(options));
    return rows.map(toClaimedTask);
  }

  /**
   * Extends one lease, records progress and adds `counts` to the task's counters, all in one
   * fenced write: LeaseLostError when the lease is gone, and then nothing was written.
   */
  async heartbeat(lease: Lease, options: { leaseMs: number; progress?: unknown; counts?: Readonly<Record<string, number>> }): Promise<void> {
    const leaseMs = integerAtLeast('heartbeat: leaseMs', options.leaseMs, MIN_LEASE_MS);
    const { progress: value, counts } = options;
    const progress = value === undefined ? null : value instanceof JsonText ? value.text : toJsonText(value, 'progress', this.maxResultBytes, lease.id);
    await this.store.heartbeat(lease, leaseMs, { progress, counts: counts === undefined ? [] : validateCounts(counts, lease.id) });
  }

  /** One statement for all of a worker's leases; returns the leases it still holds (id → token). */
  async heartbeatWorker(workerId: string, leaseMs: number, taskIds: readonly number[]): Promise<Map<number, string>> {
    return this.store.heartbeatWorker(workerId, integerAtLeast('heartbeat: leaseMs', leaseMs, MIN_LEASE_MS), taskIds);
  }

  async complete(lease: Lease, result: unknown, workerId = 'api'): Promise<void> {
    await this.finishOne({ kind: 'complete', lease, workerId, result });
  }

  async fail(lease: Lease, error: string, workerId = 'api'): Promise<void> {
    await this.finishOne({ kind: 'fail', lease, workerId, error });
  }

  async release(lease: Lease, workerId = 'api'): Promise<void> {
    await this.finishOne({ kind: 'release', lease, workerId });
  }

  /**
   * Group commit: many outcomes in one transaction. Each is its own conditional write and
   * answers, index for index, with the task's new status (a failure: `pending` when it will be
   * retried, `failed` when it will not) or, when its lease is gone, its typed error, which does
   * not stop the others. If the transaction fails, the promise rejects and nothing was written.
   */
  async finishMany(outcomes: readonly Outcome[]): Promise<(TaskStatus | TasklockError)[]> {
    return this.store.finish(this.finishInputs(outcomes));
  }

  /**
   * finishMany(outcomes), then claim(next), in one transaction: what a busy worker does when its
   * handlers finish, with one lock hand-over instead of two. The claim takes only due tasks, so
   * it answers an empty list when there are none; a failed transaction wrote nothing of either.
   */
  async finishAndClaim(
    outcomes: readonly Outcome[],
    next: ClaimOptions,
  ): Promise<{ statuses: (TaskStatus | TasklockError)[]; claimed: ClaimedTask[] }> {
    const claim = validateClaim(next);
    const { statuses, claimed } = await this.store.finishAndClaim(this.finishInputs(outcomes), claim);
    return { statuses, claimed: claimed.map(toClaimedTask) };
  }

  async cancel(id: number, reason: string | null = null): Promise<Task> {
    await this.store.cancel(id, reason);
    return this.get(id);
  }

  async retry(id: number): Promise<Task> {
    await this.store.retry(id);
    return this.get(id);
  }

  /** Cancels tasks named by id or by a filter, each as cancel() would, in bounded transactions (admin.ts). */
  cancelMany(target: admin.BulkTarget, options: admin.BulkOptions & { reason?: string | null } = {}): Promise<admin.BulkResult> {
    return admin.moveMany(this.store, 'cancel', target, options);
  }

  /** Retries tasks named by id or by a filter, each as retry() would (admin.ts). */
  retryMany(target: admin.BulkTarget, options: admin.BulkOptions = {}): Promise<admin.BulkResult> {
    return admin.moveMany(this.store, 'retry', target, options);
  }

  /** Deletes terminal tasks not updated for `olderThanMs`; returns how many. */
  purge(options: { olderThanMs: number; statuses?: readonly TaskStatus[] }): Promise<number> {
    return admin.purge(this.store, options);
  }

  /**
   * Writes every task (or those of the filter) whole, as NDJSON lines handed to `write` one at a
   * time, a page read at a time; refuses while tasks run unless `allowRunning` (transfer/transfer.ts).
   */
  exportTasks(options: transfer.ExportOptions, write: (line: string) => Promise<void>): Promise<transfer.ExportCounts> {
    return transfer.exportTasks(this.store, options, write);
  }

  /** Writes an export read back by readExport() (which checked all of it) in one transaction, ids kept: all or nothing. */
  importTasks(data: transfer.ParsedExport): Promise<transfer.ImportResult> {
    return transfer.importTasks(this.store, data);
  }

  /** Takes back tasks nobody runs any more: expired leases, and the tasks of dead workers of this host (reclaim.ts). */
  reclaim(options: reclaim.ReclaimOptions = {}): Promise<reclaim.ReclaimResult> {
    return reclaim.sweep(this.store, options);
  }

  registerWorker(worker: { id: string; queue: string; types: readonly string[] | null; deadAfterMs: number }): Promise<void> {
    return registry.register(this.store, worker);
  }

  /** Records the process group an attempt's handler runs in (worker-registry.ts). */
  recordHandlerGroup(lease: Lease, pgid: number): Promise<void> {
    return registry.recordHandlerGroup(this.store, lease, pgid);
  }

  stopWorker(id: string): Promise<void> {
    return this.store.stopWorker(id, Date.now());
  }

  /** Every worker row, with whether its process is alive (null: on another host, cannot tell). */
  workers(): Promise<registry.WorkerView[]> {
    return registry.list(this.store);
  }

  async get(id: number): Promise<Task> {
    const row = await this.store.get(id);
    if (row === undefined) throw new TaskNotFoundError(id);
    const [task] = await this.withCounters([toTask(row)]);
    return task!;
  }

  async list(filter: ListFilter = {}): Promise<Task[]> {
    return (await this.listPage(filter)).tasks;
  }

  /**
   * Tasks by id, ascending or descending, `limit` at a time: pass a page's `next` back as
   * `afterId` for the following one. The cursor is an id, so pages neither repeat nor skip a
   * task whatever is written in between (new tasks show up on later ascending pages only).
   */
  async listPage(filter: ListFilter = {}): Promise<TaskPage> {
    const now = Date.now();
    const input = validateList(filter, now);
    // One more than asked: whether a next page exists, without a count.
    const rows = await this.store.list(input.filter, input.order, input.afterId, input.limit + 1, now);
    const tasks = await this.withCounters(rows.slice(0, input.limit).map(toTask));
    return { tasks, next: rows.length > input.limit ? tasks[tasks.length - 1]!.id : null };
  }

  /**
   * Resolves with the task once it has ended — succeeded (with its result), failed or cancelled
   * (status and lastError say why): a task that failed is an answer, not an error of the wait.
   * Rejects with TaskNotFoundError for an unknown id (at once), WaitTimeoutError after
   * `timeoutMs`, WaitAbortedError when `signal` aborts. Woken by the store's change signal for
   * ends (other processes' too), not by polling; every wait of this queue shares one signal.
   */
  waitFor(id: number, options: WaitOptions = {}): Promise<Task> {
    integerAtLeast('waitFor: id', id, 1);
    if (options.timeoutMs !== undefined) integerAtLeast('waitFor: timeoutMs', options.timeoutMs, 0);
    return this.waiter.wait(id, options);
  }

  /**
   * Every task's events, across processes, in the order their transactions committed, as an
   * async iterator: following the log (tail -f) until `signal` aborts or the loop breaks, or, with
   * `follow: false`, what is there now. Each event's `id` is a durable cursor: pass the last one
   * handled as `after` (after a restart too) and nothing is missed or repeated (event-stream.ts).
   */
  events(options?: EventStreamOptions): AsyncGenerator<StreamEvent, void, undefined>;
  /** One task's events (its transition log), in the order its moves happened. */
  events(id: number): Promise<TaskEventRow[]>;
  events(arg: number | EventStreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> | Promise<TaskEventRow[]> {
    if (typeof arg === 'number') return this.taskEvents(arg);
    // Bad options are refused here, at the call, not at the first next().
    validateStreamOptions(arg);
    return eventStream(this.store, arg);
  }

  private async taskEvents(id: number): Promise<TaskEventRow[]> {
    await this.get(id);
    return this.store.events(id);
  }

  async runs(id: number): Promise<TaskRunRow[]> {
    await this.get(id);
    return this.store.runs(id);
  }

  stats(): Promise<admin.QueueStats> {
    return admin.stats(this.store);
  }

  /** Due, running (by anyone) and scheduled tasks of this queue/types, and the next run_at: a read, no lock. */
  backlog(queue: string, types: readonly string[] | null) {
    return this.store.backlog(queue, types, Date.now());
  }

  /** Whether a task of this queue/types is claimable now: a read, no lock. */
  hasDue(queue: string, types: readonly string[] | null): Promise<boolean> {
    return this.store.hasDue(queue, types, Date.now());
  }

  /** How long until the earliest pending task of this queue/types is due, by the store's clock (≤ 0: due now), or null: how long an idle worker may sleep. */
  nextDueInMs(queue: string, types: readonly string[] | null): Promise<number | null> {
    return this.store.nextDueInMs(queue, types, Date.now());
  }

  /** Pending (due or scheduled) + running tasks of this queue/types. */
  liveCount(queue: string, types: readonly string[] | null): Promise<number> {
    return this.store.liveCount(queue, types);
  }

  /**
   * Copies the store to `dest` while workers keep running: one consistent snapshot, checked
   * before it takes the name `dest`. An existing `dest` is refused (BadInputError) unless `force`.
   * On SQLite the copy holds this process's event loop while it runs: call it from a process of
   * its own, not from inside a worker.
   */
  backup(dest: string, options: BackupOptions = {}): Promise<BackupResult> {
    return this.store.backup(dest, options);
  }

  /** The store under this queue: engine, version, location, lock. */
  describe(): StoreDescription {
    return this.store.describe();
  }

  /** The store's own health checks, as `doctor` prints them. */
  diagnose(options: DiagnoseOptions = {}): Promise<DiagnosisCheck[]> {
    return this.store.diagnose(options);
  }

  /** The live view's cheap reads (stats --watch): live tasks and new events, never the finished ones. */
  monitor(options: MonitorOptions = {}): StoreMonitor {
    return this.store.monitor(options);
  }

  /** A new signal that wakes its waiter when another process may have written (close it when done). */
  changeSignal(topic?: ChangeTopic): ChangeSignal {
    return this.store.changeSignal(topic);
  }

  /** The writes made through this queue's store so far: lock wait/hold, busy retries, failures. */
  writeMetrics(): WriteMetricsSnapshot {
    return this.store.writeMetrics();
  }

  /** Outcomes as the store takes them: results as JSON text (serialised here unless the worker already did). */
  private finishInputs(outcomes: readonly Outcome[]): FinishInput[] {
    return outcomes.map((outcome) =>
      outcome.kind === 'complete'
        ? {
            ...outcome,
            result:
              outcome.result instanceof JsonText ? outcome.result.text : toJsonText(outcome.result ?? null, 'result', this.maxResultBytes, outcome.lease.id),
          }
        : outcome,
    );
  }

  /** Fills in the tasks' counters (a read after the tasks': a counter may be newer than its task's row, never older). */
  private async withCounters(tasks: Task[]): Promise<Task[]> {
    const byId = new Map(tasks.map((task) => [task.id, task]));
    for (const row of await this.store.counters([...byId.keys()])) byId.get(row.task_id)!.counters[row.name] = row.value;
    return tasks;
  }

  private async finishOne(outcome: Outcome): Promise<void> {
    const [status] = await this.finishMany([outcome]);
    if (status instanceof TasklockError) throw status;
  }
}
