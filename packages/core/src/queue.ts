import { randomBytes } from 'node:crypto';
import type { TasklockDatabase } from './storage/sqlite/database.js';
import { openDatabase, type OpenOptions } from './storage/sqlite/db/open.js';
import { bulkMove, type BulkOptions, type BulkResult, type BulkTarget } from './storage/sqlite/bulk.js';
import { BadInputError, LeaseLostError, TaskNotFoundError, TasklockError } from './errors.js';
import { killGroupAndWait, isForeignGroup, type ProcessGroup } from './process-group.js';
import { currentProcess, isProcessAlive, processStart } from './process-identity.js';
import { prepareAdmin } from './storage/sqlite/sql/admin.js';
import { prepareClaim } from './storage/sqlite/sql/claim.js';
import { prepareEnqueue, type NewTask } from './storage/sqlite/sql/enqueue.js';
import { prepareEvents, type TaskEventRow } from './storage/sqlite/sql/events.js';
import { prepareFinish } from './storage/sqlite/sql/finish.js';
import { prepareHeartbeat } from './storage/sqlite/sql/heartbeat.js';
import { prepareRead, type Backlog } from './storage/sqlite/sql/read.js';
import { prepareReclaim, type HeldTask } from './storage/sqlite/sql/reclaim.js';
import { prepareRuns, type TaskRunRow } from './storage/sqlite/sql/runs.js';
import { prepareTaskLookup } from './storage/sqlite/sql/task-lookup.js';
import { prepareWorkers, type WorkerRow } from './storage/sqlite/sql/workers.js';
import { filterParams } from './storage/sqlite/sql/task-filter.js';
import { zeroCounts, type StatusView } from './status-view.js';
import { assertTransition, TERMINAL_STATUSES, type TaskStatus } from './task-state.js';
import { DEFAULT_BACKOFF, toClaimedTask, toJsonText, toTask, type Backoff, type ClaimedTask, type Task } from './task.js';
import { validateEnqueue, validateClaim, validateList, type ClaimOptions, type EnqueueItem, type EnqueueOptions, type ListFilter } from './validate.js';
import type { WriteMetricsSnapshot } from './storage/sqlite/metrics.js';
import type { ChangeSignal, DiagnosisCheck, StoreDescription } from './storage/store.js';
import { diagnoseSqlite } from './storage/sqlite/diagnose.js';
import { WakeSignal } from './storage/sqlite/wake-signal.js';
import { QueueMonitor } from './storage/sqlite/monitor.js';
import type { BackupOptions, BackupResult } from './storage/sqlite/db/backup.js';

export interface QueueOptions extends OpenOptions {
  /** Largest payload accepted, in bytes of JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Largest result stored, in bytes of JSON (default 1 MiB). */
  maxResultBytes?: number;
}

export type EnqueuedTask = Task & { created: boolean };

/** A task this caller holds: its id and the lease token that fences writes about it. */
export interface Lease {
  id: number;
  leaseToken: string;
}

export type Outcome =
  | { kind: 'complete'; lease: Lease; workerId: string; result: unknown }
  | { kind: 'fail'; lease: Lease; workerId: string; error: string }
  | { kind: 'release'; lease: Lease; workerId: string };

export interface QueueStats {
  /** By status, with pending split: `pending` is due now, `scheduled` waits for its run_at (status-view.ts). */
  counts: Record<StatusView, number>;
  byQueue: Record<string, Record<StatusView, number>>;
  byType: Record<string, Record<StatusView, number>>;
  /** How long the oldest due pending task has waited, ms (0 when none). */
  oldestPendingAgeMs: number;
  /** Running tasks whose lease has expired (recover or any worker will reclaim them). */
  overdueLeases: number;
  lock: { strategy: string; path: string };
  schemaVersion: number;
  /** This process's own writes: lock wait/hold, BUSY retries, failures. */
  writes: WriteMetricsSnapshot;
  workers: { live: number; total: number };
}

/** One page of `listPage`: `next` is the cursor (afterId) of the following page, null on the last. */
export interface TaskPage {
  tasks: Task[];
  next: number | null;
}

export interface RecoverResult {
  expired: number;
  deadOwner: number;
  deadWorkers: string[];
  /** Handler process groups of reclaimed attempts that still ran and were killed first. */
  killedGroups: { taskId: number; pgid: number; members: number; waitedMs: number }[];
  /** Tasks left running because their previous attempt's processes outlived the wait (tried again next sweep). */
  blocked: { taskId: number; pgid: number }[];
  /** Rows of workers that ended before the retention, deleted. */
  pruned: number;
}

export interface RecoverOptions {
  /** Who sweeps, recorded as `crashed_by` of the dead workers it finds (default host:pid). */
  by?: string;
  /** Rows of stopped or crashed workers are kept this long (default 7 days). */
  workerRetentionMs?: number;
  /** How long to wait for a killed handler process group to be gone (default 2 s). */
  handlerExitWaitMs?: number;
}

export const DEFAULT_WORKER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const DEFAULT_HANDLER_EXIT_WAIT_MS = 2000;

const MiB = 1024 * 1024;
/** Expired leases reclaimed per sweep transaction. */
const RECLAIM_BATCH = 1000;

/**
 * The queue API. The database is the only truth: nothing here caches task state, every write
 * is one `db.write()` transaction (the one write path), and every transition in it is a
 * conditional UPDATE from task-state.ts's table whose refusal raises a typed error.
 */
export class Queue {
  private readonly sql;
  private readonly maxPayloadBytes: number;
  /** Largest result (and progress) stored, in bytes of JSON; a worker checks its handlers' results against it. */
  readonly maxResultBytes: number;

  constructor(
    readonly db: TasklockDatabase,
    options: Pick<QueueOptions, 'maxPayloadBytes' | 'maxResultBytes'> = {},
    private readonly ownsDb = false,
  ) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? MiB;
    this.maxResultBytes = options.maxResultBytes ?? MiB;
    const conn = db.connection;
    const events = prepareEvents(conn);
    const runs = prepareRuns(conn);
    this.sql = {
      events,
      runs,
      lookup: prepareTaskLookup(conn),
      enqueue: prepareEnqueue(conn, events),
      claim: prepareClaim(conn, runs, events),
      finish: prepareFinish(conn, runs, events),
      heartbeat: prepareHeartbeat(conn),
      reclaim: prepareReclaim(conn, runs, events),
      admin: prepareAdmin(conn, runs, events),
      workers: prepareWorkers(conn),
      read: prepareRead(conn),
    };
  }

  static async open(path: string, options: QueueOptions = {}): Promise<Queue> {
    const db = await openDatabase(path, options);
    try {
      return new Queue(db, options, true);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    if (this.ownsDb) this.db.close();
  }

  async enqueue(type: string, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueuedTask> {
    const [task] = await this.enqueueMany([{ ...options, type, payload }]);
    return task!;
  }

  /** All or nothing: one transaction; any invalid item rejects the whole batch before writing. */
  async enqueueMany(items: readonly EnqueueItem[]): Promise<EnqueuedTask[]> {
    const now = Date.now();
    const rows: NewTask[] = items.map((item, index) => validateEnqueue(item, now, this.maxPayloadBytes, index, items.length));
    const created = await this.db.write(
      () => rows.map((row) => this.sql.enqueue(row, now)),
      { label: 'enqueue' },
    );
    return created.map(({ row, created: isNew }) => ({ ...toTask(row), created: isNew }));
  }

  /** Up to `limit` tasks in one transaction, highest priority first, then oldest run_at, then id. */
  async claim(options: ClaimOptions): Promise<ClaimedTask[]> {
    const input = validateClaim(options);
    const rows = await this.db.write(
      () => this.sql.claim({ ...input, nonce: randomBytes(6).toString('hex'), now: Date.now() }),
      { label: 'claim' },
    );
    return rows.map(toClaimedTask);
  }

  /** Extends one lease and records progress; LeaseLostError when the lease is gone. */
  async heartbeat(lease: Lease, options: { leaseMs: number; progress?: unknown }): Promise<void> {
    const progress = options.progress === undefined ? null : toJsonText(options.progress, 'progress', this.maxResultBytes, lease.id);
    await this.db.write(
      () => {
        if (!this.sql.heartbeat.task(lease.id, lease.leaseToken, Date.now(), options.leaseMs, progress)) {
          throw this.sql.lookup.refusal(lease.id, 'heartbeat');
        }
      },
      { label: 'heartbeat', taskId: lease.id },
    );
  }

  /** One statement for all of a worker's leases; returns the leases it still holds (id → token). */
  heartbeatWorker(workerId: string, leaseMs: number): Promise<Map<number, string>> {
    return this.db.write(() => this.sql.heartbeat.worker(workerId, Date.now(), leaseMs), { label: 'heartbeat' });
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
    const prepared = outcomes.map((outcome) =>
      outcome.kind === 'complete'
        ? { outcome, result: toJsonText(outcome.result ?? null, 'result', this.maxResultBytes, outcome.lease.id) }
        : { outcome, result: '' },
    );
    return this.db.write(
      () => {
        const now = Date.now();
        return prepared.map(({ outcome, result }) => {
          const fence = { id: outcome.lease.id, token: outcome.lease.leaseToken, now };
          const status =
            outcome.kind === 'complete'
              ? this.sql.finish.complete(fence, outcome.workerId, result)
              : outcome.kind === 'fail'
                ? this.sql.finish.fail(fence, outcome.workerId, outcome.error)
                : this.sql.finish.release(fence, outcome.workerId);
          return status ?? (this.sql.lookup.refusal(fence.id, outcome.kind) as TasklockError);
        });
      },
      { label: outcomes.length === 1 ? outcomes[0]!.kind : 'finish', taskId: outcomes.length === 1 ? outcomes[0]!.lease.id : undefined },
    );
  }

  async cancel(id: number, reason: string | null = null): Promise<Task> {
    await this.db.write(
      () => {
        const task = this.sql.admin.current(id);
        if (task === undefined) throw new TaskNotFoundError(id);
        assertTransition(id, 'cancel', task.status);
        if (!this.sql.admin.cancel(id, task.status, task.attempts, task.locked_by, Date.now(), reason)) {
          throw this.sql.lookup.refusal(id, 'cancel');
        }
      },
      { label: 'cancel', taskId: id },
    );
    return this.get(id);
  }

  async retry(id: number): Promise<Task> {
    await this.db.write(
      () => {
        const task = this.sql.admin.current(id);
        if (task === undefined) throw new TaskNotFoundError(id);
        assertTransition(id, 'retry', task.status);
        if (!this.sql.admin.retry(id, task.status, task.attempts, Date.now())) throw this.sql.lookup.refusal(id, 'retry');
      },
      { label: 'retry', taskId: id },
    );
    return this.get(id);
  }

  /**
   * Cancels tasks named by id or by a filter (see bulk.ts): each as cancel() would, in
   * transactions of `batchSize`; ids that cannot be cancelled are reported, not thrown.
   */
  async cancelMany(target: BulkTarget, options: BulkOptions & { reason?: string | null } = {}): Promise<BulkResult> {
    const reason = options.reason ?? null;
    return bulkMove(this.db, this.sql.admin, 'cancel', target, options, (task, now) =>
      this.sql.admin.cancel(task.id, task.status, task.attempts, task.locked_by, now, reason),
    );
  }

  /** Retries tasks named by id or by a filter (see bulk.ts), each as retry() would. */
  async retryMany(target: BulkTarget, options: BulkOptions = {}): Promise<BulkResult> {
    return bulkMove(this.db, this.sql.admin, 'retry', target, options, (task, now) => this.sql.admin.retry(task.id, task.status, task.attempts, now));
  }

  /** Deletes terminal tasks not updated for `olderThanMs`; returns how many. */
  async purge(options: { olderThanMs: number; statuses?: readonly TaskStatus[] }): Promise<number> {
    if (!Number.isFinite(options.olderThanMs) || options.olderThanMs < 0) {
      throw new BadInputError('purge: olderThanMs must be a non-negative number');
    }
    const statuses = options.statuses ?? TERMINAL_STATUSES;
    for (const status of statuses) {
      if (!TERMINAL_STATUSES.includes(status)) throw new BadInputError(`purge: only terminal tasks can be purged, not ${status}`);
    }
    const cutoff = Date.now() - options.olderThanMs;
    return this.db.write(() => this.sql.admin.purge(statuses, cutoff), { label: 'purge' });
  }

  /**
   * Reclaims tasks nobody runs: expired leases (anywhere), and at once the tasks of workers of
   * this host whose process is gone (pid + start time, so a reused pid does not count as alive).
   *
   * No hand-over while the previous attempt still runs: when an attempt recorded its handler's
   * process group on this host and a member of it is alive (orphaned by a worker killed alone,
   * or run by a frozen one), the group is SIGKILLed and the task handed on only once the group is
   * gone — outside the write transaction, which never waits. A group on another host cannot be
   * seen from here: there the lease is the only rule.
   */
  async recover(options: RecoverOptions = {}): Promise<RecoverResult> {
    const me = currentProcess();
    const by = options.by ?? `${me.host}:${me.pid}`;
    const retentionMs = options.workerRetentionMs ?? DEFAULT_WORKER_RETENTION_MS;
    const waitMs = options.handlerExitWaitMs ?? DEFAULT_HANDLER_EXIT_WAIT_MS;
    if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new BadInputError('recover: workerRetentionMs must be a non-negative number');
    const dead = this.sql.workers
      .holdingOnHost(me.host)
      .concat(this.sql.workers.activeOnHost(me.host))
      .filter((w) => !isProcessAlive({ pid: w.pid, start: w.process_start }));
    const deadIds = [...new Set(dead.map((w) => w.id))];
    const pruneBefore = Date.now() - retentionMs;
    const result: RecoverResult = { expired: 0, deadOwner: 0, deadWorkers: deadIds, killedGroups: [], blocked: [], pruned: 0 };
    // The common case, nothing to do, costs three indexed reads and no write transaction.
    if (deadIds.length === 0 && this.sql.read.overdueLeases(Date.now()) === 0 && !this.sql.workers.anyPrunable(pruneBefore)) return result;

    // A dead worker's task whose lease also expired is one candidate, reclaimed as the dead owner's.
    const candidates = (now: number) => {
      const byId = new Map<number, { task: HeldTask; why: string }>();
      for (const id of deadIds) for (const task of this.sql.reclaim.ownedBy(id)) byId.set(task.id, { task, why: 'worker process is gone' });
      for (const task of this.sql.reclaim.expired(now, RECLAIM_BATCH)) if (!byId.has(task.id)) byId.set(task.id, { task, why: 'lease expired' });
      return [...byId.values()];
    };
    const localGroup = (task: HeldTask): ProcessGroup | null =>
      task.handler_pgid !== null && task.handler_host === me.host ? { pgid: task.handler_pgid, start: task.handler_start ?? '' } : null;
    // Per attempt (task id + lease token) with a handler group here: null while the group
    // outlived the wait, else what it took to make it gone (for the event).
    const groupGone = new Map<string, string | null>();
    for (const { task } of candidates(Date.now())) {
      const group = localGroup(task);
      if (group === null) continue;
      const kill = await killGroupAndWait(group, waitMs);
      if (kill.gone && kill.members > 0) result.killedGroups.push({ taskId: task.id, pgid: group.pgid, members: kill.members, waitedMs: kill.waitedMs });
      groupGone.set(
        `${task.id}:${task.lease_token}`,
        !kill.gone
          ? null
          : kill.members === 0
            ? ''
            : `; its handler's process group ${group.pgid} still ran (${kill.members} process(es)): killed, gone after ${kill.waitedMs} ms`,
      );
    }
    return this.db.write(
      () => {
        const now = Date.now();
        // Re-read inside the transaction: another sweeper may have moved these meanwhile.
        for (const { task, why } of candidates(now)) {
          const group = localGroup(task);
          const killed = groupGone.get(`${task.id}:${task.lease_token}`);
          if (group !== null && killed === null) result.blocked.push({ taskId: task.id, pgid: group.pgid });
          // Not looked at before the transaction (expired since): the next sweep will.
          if (group !== null && (killed === undefined || killed === null)) continue;
          if (!this.sql.reclaim.expire(task, now, `${why}${killed ?? ''}`)) continue;
          if (why === 'lease expired') result.expired += 1;
          else result.deadOwner += 1;
        }
        for (const id of deadIds) this.sql.workers.crashed(id, now, by);
        result.pruned = this.sql.workers.prune(pruneBefore);
        return result;
      },
      { label: 'recover' },
    );
  }

  registerWorker(worker: { id: string; queue: string; types: readonly string[] | null }): Promise<void> {
    const me = currentProcess();
    return this.db.write(
      () =>
        this.sql.workers.register({
          id: worker.id,
          pid: me.pid,
          host: me.host,
          process_start: me.start,
          queue: worker.queue,
          types: worker.types === null ? null : JSON.stringify(worker.types),
          started_at: Date.now(),
        }),
      { label: 'register worker' },
    );
  }

  /**
   * Records the process group an attempt's handler runs in (fenced by the lease, once per
   * attempt): if the worker dies, the recovery sweep on this host kills that group before the
   * task runs again. LeaseLostError when the lease is gone: the caller must then kill the group.
   */
  async recordHandlerGroup(lease: Lease, pgid: number): Promise<void> {
    if (!isForeignGroup(pgid)) throw new BadInputError(`process group ${String(pgid)} cannot be a handler's own group`, { taskId: lease.id });
    const me = currentProcess();
    const handler = { pgid, start: processStart(pgid) ?? '', host: me.host };
    await this.db.write(
      () => {
        if (this.sql.runs.recordHandler(lease.id, lease.leaseToken, handler)) return;
        const refusal = this.sql.lookup.refusal(lease.id, 'heartbeat');
        if (refusal instanceof LeaseLostError || refusal instanceof TaskNotFoundError) throw refusal;
        throw new BadInputError(`task ${lease.id}: this attempt already recorded its handler's process group`, { taskId: lease.id });
      },
      { label: 'record handler', taskId: lease.id },
    );
  }

  async stopWorker(id: string): Promise<void> {
    await this.db.write(() => this.sql.workers.stop(id, Date.now()), { label: 'stop worker' });
  }

  get(id: number): Task {
    const row = this.sql.read.get(id);
    if (row === undefined) throw new TaskNotFoundError(id);
    return toTask(row);
  }

  list(filter: ListFilter = {}): Task[] {
    return this.listPage(filter).tasks;
  }

  /**
   * Tasks by id, ascending or descending, `limit` at a time: pass a page's `next` back as
   * `afterId` for the following one. The cursor is an id, so pages neither repeat nor skip a
   * task whatever is written in between (new tasks show up on later ascending pages only).
   */
  listPage(filter: ListFilter = {}): TaskPage {
    const now = Date.now();
    const input = validateList(filter, now);
    // One more than asked: whether a next page exists, without a count.
    const rows = this.sql.read.list(filterParams(input.filter, now), input.order, input.afterId, input.limit + 1);
    const tasks = rows.slice(0, input.limit).map(toTask);
    return { tasks, next: rows.length > input.limit ? tasks[tasks.length - 1]!.id : null };
  }

  events(id: number): TaskEventRow[] {
    this.get(id);
    return this.sql.events.forTask(id);
  }

  runs(id: number): TaskRunRow[] {
    this.get(id);
    return this.sql.runs.forTask(id);
  }

  workers(): (WorkerRow & { alive: boolean | null })[] {
    const host = currentProcess().host;
    return this.sql.workers.all().map((w) => ({
      ...w,
      alive: w.stopped_at !== null || w.crashed_at !== null ? false : w.host === host ? isProcessAlive({ pid: w.pid, start: w.process_start }) : null,
    }));
  }

  /**
   * Copies the database to `dest` while workers keep running: one consistent snapshot, checked
   * with integrity_check before it takes the name `dest`. An existing `dest` is refused
   * (BadInputError) unless `force`. The copy itself runs synchronously and holds this process's
   * event loop for its duration: call it from a process of its own, not from inside a worker.
   */
  async backup(dest: string, options: BackupOptions = {}): Promise<BackupResult> {
    return this.db.backupTo(dest, options);
  }

  /** The store under this queue: engine, version, location, lock. */
  describe(): StoreDescription {
    return {
      engine: 'sqlite',
      engineVersion: this.db.engineVersion,
      location: this.db.path,
      lock: { strategy: this.db.lockStrategy, path: this.db.lock.path },
      schemaVersion: this.db.schemaVersion,
      appliedMigrations: this.db.appliedMigrations,
    };
  }

  /** The store's own health checks, as `doctor` prints them (one empty write transaction, then reads). */
  diagnose(options: { pathAsGiven?: string } = {}): Promise<DiagnosisCheck[]> {
    return diagnoseSqlite(this.db, options.pathAsGiven ?? this.db.path);
  }

  /** The live view's cheap reads (stats --watch): live tasks and new events, never the finished ones. */
  monitor(): QueueMonitor {
    return new QueueMonitor(this.db);
  }

  /** A new signal that wakes its waiter when another process may have written (close it when done). */
  changeSignal(): ChangeSignal {
    return new WakeSignal(`${this.db.path}-wal`);
  }

  /** This process's own writes so far: lock wait/hold, BUSY retries, failures. */
  writeMetrics(): WriteMetricsSnapshot {
    return this.db.metricsSnapshot();
  }

  stats(): QueueStats {
    const now = Date.now();
    const counts = zeroCounts();
    const byQueue: Record<string, Record<StatusView, number>> = {};
    const byType: Record<string, Record<StatusView, number>> = {};
    for (const row of this.sql.read.counts(now)) {
      counts[row.status] += row.count;
      (byQueue[row.queue] ??= zeroCounts())[row.status] += row.count;
      (byType[row.type] ??= zeroCounts())[row.status] += row.count;
    }
    const oldest = this.sql.read.oldestPendingRunAt(now);
    const workers = this.workers();
    return {
      counts,
      byQueue,
      byType,
      oldestPendingAgeMs: oldest === null ? 0 : now - oldest,
      overdueLeases: this.sql.read.overdueLeases(now),
      lock: { strategy: this.db.lockStrategy, path: this.db.lock.path },
      schemaVersion: this.db.schemaVersion,
      writes: this.db.metricsSnapshot(),
      workers: { live: workers.filter((w) => w.alive !== false).length, total: workers.length },
    };
  }

  /** Earliest run_at of a pending task of this queue/types, or null: how long an idle worker may sleep. */
  nextRunAt(queue: string, types: readonly string[] | null): number | null {
    return this.sql.read.nextRunAt(queue, types === null ? null : JSON.stringify(types));
  }

  /** Whether a task of this queue/types is claimable now: a read, no lock. */
  hasDue(queue: string, types: readonly string[] | null): boolean {
    return this.sql.read.hasDue(queue, types === null ? null : JSON.stringify(types), Date.now());
  }

  /** Pending (due or scheduled) + running tasks of this queue/types. */
  liveCount(queue: string, types: readonly string[] | null): number {
    return this.sql.read.liveCount(queue, types === null ? null : JSON.stringify(types));
  }

  /** Due, running (by anyone) and scheduled tasks of this queue/types, and the next run_at: a read, no lock. */
  backlog(queue: string, types: readonly string[] | null): Backlog {
    return this.sql.read.backlog(queue, types === null ? null : JSON.stringify(types), Date.now());
  }

  private async finishOne(outcome: Outcome): Promise<void> {
    const [status] = await this.finishMany([outcome]);
    if (status instanceof TasklockError) throw status;
  }
}

export { DEFAULT_BACKOFF, type Backoff };
