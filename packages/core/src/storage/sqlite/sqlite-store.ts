/**
 * The embedded store: one SQLite file in WAL mode, shared by every process on the machine.
 *
 * One write path: every operation that changes the file is one `db.write()` — the write lock,
 * BEGIN IMMEDIATE, a synchronous body, COMMIT, release (write-transaction.ts). No await ever
 * happens inside a transaction: bodies are plain functions over statements prepared once here.
 * Reads run on the same connection outside any transaction (WAL readers see the last commit and
 * never block a writer); a read that must be consistent across statements takes a read
 * transaction of its own (monitor.ts).
 */
import { randomBytes } from 'node:crypto';
import type { TasklockError } from '../../errors.js';
import { TaskNotFoundError } from '../../errors.js';
import { assertTransition, type TaskStatus } from '../../task-state.js';
import { acceptedReports, reportsOf } from '../attempt-reports.js';
import { importConflict, importKeys } from '../import-conflicts.js';
import type { FilterInput, HandlerProcess, NewTask, NewWorker, TaskRecord } from '../rows.js';
import type {
  AttemptReport,
  BackupOptions,
  BulkMove,
  ChangeSignal,
  ClaimInput,
  DiagnosisCheck,
  DiagnoseOptions,
  FinishInput,
  LeaseRef,
  MoveManyOptions,
  MoveTarget,
  ReclaimInput,
  StoreDescription,
  StoreMonitor,
  MonitorOptions,
  TaskStore,
} from '../store.js';
import { moveMany } from './bulk.js';
import type { TasklockDatabase } from './database.js';
import { openDatabase, type OpenOptions } from './db/open.js';
import { diagnoseSqlite } from './diagnose.js';
import { SqliteMonitor } from './monitor.js';
import { prepareAdmin, type CandidateRow } from './sql/admin.js';
import { prepareClaim } from './sql/claim.js';
import { prepareCounters } from './sql/counters.js';
import { prepareEnqueue } from './sql/enqueue.js';
import { prepareEvents } from './sql/events.js';
import { prepareTransitionCounts } from './sql/transition-counts.js';
import { prepareEventLog } from './sql/event-log.js';
import type { EventCursor } from '../event-cursor.js';
import { prepareFinish } from './sql/finish.js';
import { prepareFinishCounts } from './sql/finish-counts.js';
import { prepareHeartbeat } from './sql/heartbeat.js';
import { prepareRead } from './sql/read.js';
import { prepareReclaim } from './sql/reclaim.js';
import { prepareRuns } from './sql/runs.js';
import { filterParams } from './sql/task-filter.js';
import { prepareTaskLookup } from './sql/task-lookup.js';
import { prepareTransfer } from './sql/transfer.js';
import { prepareWorkers } from './sql/workers.js';
import { WalWatch } from './wal-watch.js';

/** Options of the SQLite store (`Queue.open(path, { sqlite: … })`). */
export type SqliteOptions = OpenOptions;

export class SqliteStore implements TaskStore {
  private readonly sql;
  /** Frozen types lists as the JSON their statements bind, by identity: a worker passes its one frozen list every tick. */
  private readonly typesJson = new WeakMap<readonly string[], string>();

  /** Opens (creating and migrating if needed) the database at `path`; db/open.ts lists its refusals. */
  static async open(path: string, options: SqliteOptions = {}): Promise<SqliteStore> {
    const db = await openDatabase(path, options);
    try {
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** `database`: the connection and write path, for the store's own tests and benchmarks only. */
  constructor(readonly database: TasklockDatabase) {
    const conn = database.connection;
    const events = prepareEvents(conn);
    const runs = prepareRuns(conn);
    const workers = prepareWorkers(conn);
    this.sql = {
      events,
      eventLog: prepareEventLog(conn),
      runs,
      lookup: prepareTaskLookup(conn),
      enqueue: prepareEnqueue(conn),
      claim: prepareClaim(conn, runs),
      finish: prepareFinish(conn, runs, prepareFinishCounts(conn)),
      heartbeat: prepareHeartbeat(conn, workers),
      counters: prepareCounters(conn),
      reclaim: prepareReclaim(conn, runs, events),
      admin: prepareAdmin(conn, runs, events),
      workers,
      read: prepareRead(conn),
      transitionCounts: prepareTransitionCounts(conn),
      transfer: prepareTransfer(conn),
    };
  }

  enqueue(tasks: readonly NewTask[], now: number) {
    return this.database.write(() => tasks.map((task) => this.sql.enqueue(task, now)), { label: 'enqueue' });
  }

  claim(input: ClaimInput) {
    const params = this.claimParams(input);
    // `now` is read inside the transaction: a claim that waited for the lock leases from when it got it.
    return this.database.write(() => this.sql.claim({ ...params, now: Date.now() }), { label: 'claim' });
  }

  async heartbeat(lease: LeaseRef, leaseMs: number, report: AttemptReport): Promise<void> {
    await this.database.write(
      () => {
        if (!this.sql.heartbeat.task(lease.id, lease.leaseToken, Date.now(), leaseMs, report.progress)) {
          throw this.sql.lookup.refusal(lease.id, 'heartbeat');
        }
        this.sql.counters.add(reportsOf(lease.id, report));
      },
      { label: 'heartbeat', taskId: lease.id },
    );
  }

  heartbeatWorker(workerId: string, leaseMs: number, taskIds: readonly number[]) {
    return this.database.write(() => this.sql.heartbeat.worker(workerId, Date.now(), leaseMs, taskIds), { label: 'heartbeat' });
  }

  finish(outcomes: readonly FinishInput[]): Promise<(TaskStatus | TasklockError)[]> {
    const only = outcomes.length === 1 ? outcomes[0] : undefined;
    return this.database.write(() => this.finishAll(outcomes, Date.now()), { label: only?.kind ?? 'finish', taskId: only?.lease.id });
  }

  finishAndClaim(outcomes: readonly FinishInput[], next: ClaimInput) {
    const params = this.claimParams(next);
    return this.database.write(
      () => {
        const now = Date.now();
        return { statuses: this.finishAll(outcomes, now), claimed: this.sql.claim({ ...params, now }) };
      },
      { label: 'finish + claim' },
    );
  }

  async cancel(id: number, reason: string | null): Promise<void> {
    await this.database.write(
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
  }

  async retry(id: number): Promise<void> {
    await this.database.write(
      () => {
        const task = this.sql.admin.current(id);
        if (task === undefined) throw new TaskNotFoundError(id);
        assertTransition(id, 'retry', task.status);
        if (!this.sql.admin.retry(id, task.status, task.attempts, Date.now())) throw this.sql.lookup.refusal(id, 'retry');
      },
      { label: 'retry', taskId: id },
    );
  }

  moveMany(move: BulkMove, target: MoveTarget, options: MoveManyOptions) {
    const { admin } = this.sql;
    const apply =
      move === 'cancel'
        ? (task: CandidateRow, now: number) => admin.cancel(task.id, task.status, task.attempts, task.locked_by, now, options.reason)
        : (task: CandidateRow, now: number) => admin.retry(task.id, task.status, task.attempts, now);
    return moveMany({ db: this.database, admin, move, options, apply }, target);
  }

  purge(statuses: readonly TaskStatus[], cutoff: number) {
    return this.database.write(() => this.sql.admin.purge(statuses, cutoff), { label: 'purge' });
  }

  reclaim(input: ReclaimInput) {
    return this.database.write(
      () => {
        const now = Date.now();
        const reclaimed = [];
        // A silent worker may have heartbeat since it was found: only those still silent count.
        const silentDead = input.silentWorkerIds.filter((id) => this.sql.workers.stillSilent(id, now));
        const dead = [...input.deadWorkerIds, ...silentDead];
        // Re-read inside the transaction: another sweeper may have moved these meanwhile.
        for (const task of this.sql.reclaim.candidates(dead, now, input.limit)) {
          const detail = input.detail(task, now);
          if (detail === null) continue;
          const status = this.sql.reclaim.reclaim(task, now, detail);
          if (status !== null) reclaimed.push({ task, status });
        }
        for (const id of dead) this.sql.workers.crashed(id, now, input.crashedBy);
        return { reclaimed, silentDead, pruned: this.sql.workers.prune(input.pruneBefore) };
      },
      { label: 'reclaim' },
    );
  }

  /** Nothing to mark: the WAL watch wakes a waiter on every commit. */
  async awaitEnds(): Promise<void> {}

  async recordHandler(lease: LeaseRef, handler: HandlerProcess): Promise<void> {
    await this.database.write(
      () => {
        if (!this.sql.runs.recordHandler(lease.id, lease.leaseToken, handler)) throw this.sql.lookup.handlerRefusal(lease.id);
      },
      { label: 'record handler', taskId: lease.id },
    );
  }

  registerWorker(worker: NewWorker) {
    return this.database.write(() => this.sql.workers.register(worker), { label: 'register worker' });
  }

  async stopWorker(id: string, now: number): Promise<void> {
    await this.database.write(() => this.sql.workers.stop(id, now), { label: 'stop worker' });
  }

  async importTasks(records: readonly TaskRecord[]): Promise<void> {
    const { ids, liveKeys } = importKeys(records);
    await this.database.write(
      () => {
        const found = this.sql.transfer.conflicts(ids, liveKeys);
        const conflict = importConflict(found.takenIds, found.heldKeys);
        if (conflict !== null) throw conflict;
        this.sql.transfer.write(records);
      },
      { label: 'import' },
    );
  }

  async get(id: number) {
    return this.sql.read.get(id);
  }

  async list(filter: FilterInput, order: 'asc' | 'desc', afterId: number | null, limit: number, now: number) {
    return this.sql.read.list(filterParams(filter, now), order, afterId, limit);
  }

  async runs(id: number) {
    return this.sql.runs.forTask(id);
  }

  async events(id: number) {
    return this.sql.events.forTask(id);
  }

  async counters(ids: readonly number[]) {
    return this.sql.counters.ofTasks(ids);
  }

  async eventLog(after: EventCursor, limit: number) {
    return this.sql.eventLog(after, limit);
  }

  async exportPage(filter: FilterInput, afterId: number, limit: number, now: number) {
    const params = filterParams(filter, now);
    // A read transaction: the page's tasks, runs and events are one commit's.
    return this.database.connection.transaction(() => this.sql.transfer.page(params, afterId, limit)).deferred();
  }

  async workers() {
    return this.sql.workers.all();
  }

  async workersOnHost(host: string) {
    return this.sql.workers.onHost(host);
  }

  async silentWorkers(host: string, now: number) {
    return this.sql.workers.silentElsewhere(host, now);
  }

  async reclaimCandidates(deadWorkerIds: readonly string[], now: number, limit: number) {
    return this.sql.reclaim.candidates(deadWorkerIds, now, limit);
  }

  async anyPrunableWorkers(cutoff: number) {
    return this.sql.workers.anyPrunable(cutoff);
  }

  async stats(now: number) {
    const { read } = this.sql;
    return { counts: read.counts(now), counters: this.sql.counters.totals(), oldestDueRunAt: read.oldestPendingRunAt(now), overdueLeases: read.overdueLeases(now) };
  }

  async transitionCounts() {
    return this.sql.transitionCounts();
  }

  async backlog(queue: string, types: readonly string[] | null, now: number) {
    return this.sql.read.backlog(queue, this.typesParam(types), now);
  }

  async hasDue(queue: string, types: readonly string[] | null, now: number) {
    return this.sql.read.hasDue(queue, this.typesParam(types), now);
  }

  async nextDueInMs(queue: string, types: readonly string[] | null, now: number) {
    const runAt = this.sql.read.nextRunAt(queue, this.typesParam(types));
    return runAt === null ? null : runAt - now;
  }

  async liveCount(queue: string, types: readonly string[] | null) {
    return this.sql.read.liveCount(queue, this.typesParam(types));
  }

  /** Either topic: the WAL watch hears every commit, whatever it changed. */
  changeSignal(): ChangeSignal {
    return new WalWatch(`${this.database.path}-wal`);
  }

  monitor(options: MonitorOptions = {}): StoreMonitor {
    return new SqliteMonitor(this.database, options.rebaseEveryMs);
  }

  describe(): StoreDescription {
    const db = this.database;
    return {
      engine: 'sqlite',
      engineVersion: db.engineVersion,
      location: db.path,
      lock: { strategy: db.lockStrategy, path: db.lock.path },
      schemaVersion: db.schemaVersion,
      appliedMigrations: db.appliedMigrations,
    };
  }

  diagnose(options: DiagnoseOptions): Promise<DiagnosisCheck[]> {
    return diagnoseSqlite(this.database, options.locationAsGiven ?? this.database.path);
  }

  writeMetrics() {
    return this.database.metrics.snapshot();
  }

  writeLatencyBuckets(boundsMs: readonly number[]) {
    return this.database.metrics.buckets(boundsMs);
  }

  /** Synchronous underneath (VACUUM INTO): it holds this process's event loop while it copies. */
  async backup(dest: string, options: BackupOptions) {
    return this.database.backupTo(dest, options);
  }

  close(): void {
    this.database.close();
  }

  /**
   * Each outcome as its conditional write: the new status, or the refusal read in the same
   * transaction. Completions go in one batch per worker (finish.completeMany); what it leaves
   * out (a refused fence, a task named twice) is tried on its own, which writes nothing and
   * says why.
   */
  private finishAll(outcomes: readonly FinishInput[], now: number): (TaskStatus | TasklockError)[] {
    const completedBy = new Map<string, { id: number; token: string; result: string }[]>();
    for (const outcome of outcomes) {
      if (outcome.kind !== 'complete') continue;
      const batch = completedBy.get(outcome.workerId) ?? [];
      batch.push({ id: outcome.lease.id, token: outcome.lease.leaseToken, result: outcome.result });
      completedBy.set(outcome.workerId, batch);
    }
    const completed = new Set<number>();
    for (const [workerId, batch] of completedBy) for (const id of this.sql.finish.completeMany(batch, workerId, now)) completed.add(id);
    const statuses = outcomes.map((outcome) => {
      if (outcome.kind === 'complete' && completed.delete(outcome.lease.id)) return 'succeeded';
      const fence = { id: outcome.lease.id, token: outcome.lease.leaseToken, now };
      const status =
        outcome.kind === 'complete'
          ? this.sql.finish.complete(fence, outcome.workerId, outcome.result)
          : outcome.kind === 'fail'
            ? this.sql.finish.fail(fence, outcome.workerId, outcome.error)
            : this.sql.finish.release(fence, outcome.workerId);
      return status ?? this.sql.lookup.refusal(fence.id, outcome.kind);
    });
    this.sql.counters.write(acceptedReports(outcomes, statuses));
    return statuses;
  }

  private claimParams(input: ClaimInput) {
    return { ...input, types: this.typesParam(input.types), nonce: randomBytes(6).toString('hex') };
  }

  private typesParam(types: readonly string[] | null): string | null {
    if (types === null) return null;
    // Only a frozen list can be remembered: a caller may change its own array between two calls.
    if (!Object.isFrozen(types)) return JSON.stringify(types);
    let json = this.typesJson.get(types);
    if (json === undefined) this.typesJson.set(types, (json = JSON.stringify(types)));
    return json;
  }
}
