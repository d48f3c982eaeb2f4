/**
 * The PostgreSQL store: the same queue across many machines. Every operation is one transaction
 * on a pooled connection (pg-write.ts); the server's row locks exclude writers, and a claim takes
 * due tasks that no other transaction holds with FOR UPDATE SKIP LOCKED. Time is the server's:
 * `tasklock.now_ms()` is read inside each transaction, so leases and run_at are judged by one
 * clock whatever the clients' clocks say: an enqueue's delay is measured from the server's now
 * (a time the caller gave is kept as given).
 *
 * The rows are the SQLite store's (storage/rows.ts), column for column, and every move is the
 * same conditional write, fenced by the lease token, with its run and counts in the same
 * transaction; the event log is the same derived view. The SQL lives in sql/, one file per
 * statement family; this class keeps the orchestration: which statements make one transaction.
 */
import type pg from 'pg';
import { errorSummary } from '../../error-text.js';
import { BadInputError, PersistenceError, StoreNotFoundError, TaskNotFoundError, type TasklockError } from '../../errors.js';
import { assertTransition, canTransition, type TaskStatus } from '../../task-state.js';
import { acceptedReports, reportsOf } from '../attempt-reports.js';
import type { Backlog, FilterInput, HandlerProcess, NewTask, NewWorker, TaskRecord } from '../rows.js';
import type {
  AttemptReport,
  BackupOptions,
  BackupResult,
  BulkMove,
  ChangeSignal,
  ChangeTopic,
  ClaimInput,
  DiagnosisCheck,
  FinishInput,
  LeaseRef,
  MoveManyOptions,
  MoveManyResult,
  MoveTarget,
  ReclaimInput,
  ReclaimWrite,
  StoreCounts,
  StoreDescription,
  StoreMonitor,
  MonitorOptions,
  DiagnoseOptions,
  TaskStore,
} from '../store.js';
import { WriteMetrics } from '../write-metrics.js';
import { pgPool, redacted } from './connect.js';
import { DEFAULT_LONG_TRANSACTION_MS, diagnosePostgres } from './diagnose.js';
import { migrate } from './migrate.js';
import { PgMonitor } from './monitor.js';
import { CHANGE_CHANNEL, END_CHANNEL, PgChangeSignal } from './pg-change-signal.js';
import { eventLog } from './sql/event-log.js';
import { markAwaited } from './sql/awaited.js';
import type { EventCursor } from '../event-cursor.js';
import { isTransientPg, pgFailure, pgWrite, pgWriteOne, sqlState } from './pg-write.js';
import { cancelTask, purgeTasks, retryTask } from './sql/admin.js';
import { claimTasks } from './sql/claim.js';
import { addCounts, counterTotals, countersOf, writeReports } from './sql/counters.js';
import { insertTasks } from './sql/enqueue.js';
import { eventsOf } from './sql/events.js';
import { transitionCounts } from './sql/transition-counts.js';
import { finishTasks } from './sql/finish.js';
import { allCompletions, completeAllAndClaim } from './sql/finish-and-claim.js';
import { PRUNE_EVERY_MS, pruneFinishCounts } from './sql/finish-counts.js';
import { type Client, notifyChange, notifyEnd, nowOf } from './sql/fragments.js';
import { extendLease, extendWorkerLeases } from './sql/heartbeat.js';
import { anyDue, backlogOf, countsAt, idsMatching, listTasks, liveTasks, maxTaskId, nextDueIn, taskById } from './sql/read.js';
import { candidatesIn, reclaimTask } from './sql/reclaim.js';
import { recordHandlerOn, runsOf } from './sql/runs.js';
import { current, type Current, handlerRefusal, refusal } from './sql/task-lookup.js';
import { exportPageIn, importIn } from './sql/transfer.js';
import { allWorkers, anyPrunable, lockStillSilent, markCrashed, markStopped, pruneWorkers, registerWorkerRow, silentElsewhere, workersOf } from './sql/workers.js';

export interface PostgresOptions {
  /** Connections this handle may open (default 4: a worker's claim loop, finisher, heartbeats and reads). */
  poolSize?: number;
  /** false: refuse (StoreNotFoundError) a database without tasklock's schema instead of creating it. */
  create?: boolean;
}

export class PostgresStore implements TaskStore {
  private readonly metrics = new WriteMetrics();
  private closed = false;
  /** When this handle last pruned old finish counts (its own clock: pacing only; a rollback just delays the next prune). */
  private countsPrunedAt = 0;

  static async open(connectionString: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const pool = pgPool(connectionString, options.poolSize ?? 4);
    try {
      const client = await pool.connect().catch((error: unknown) => {
        throw connectError(error, redacted(connectionString));
      });
      try {
        if (options.create === false) {
          const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('tasklock.meta') IS NOT NULL AS present");
          if (!rows[0]!.present) throw new StoreNotFoundError(redacted(connectionString));
        }
        const outcome = await migrate(client, redacted(connectionString));
        const version = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
        return new PostgresStore(pool, connectionString, outcome.schemaVersion, outcome.applied, version.rows[0]!.version);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      // A connection cut while migrating (a restart, pg_terminate_backend) is as transient as one refused.
      throw pgFailure(error, { label: 'open' });
    }
  }

  private constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly schemaVersion: number,
    private readonly appliedMigrations: readonly number[],
    private readonly serverVersion: string,
  ) {}

  // ── Moves ──────────────────────────────────────────────────────────────────────────────────

  enqueue(tasks: readonly NewTask[], _now: number) {
    return this.write(
      async (client) => {
        const created = await insertTasks(client, tasks);
        await notifyChange(client);
        return created;
      },
      { label: 'enqueue' },
    );
  }

  claim(input: ClaimInput) {
    return pgWriteOne(this.pool, this.metrics, (db) => claimTasks(db, input), { label: 'claim' });
  }

  async heartbeat(lease: LeaseRef, leaseMs: number, report: AttemptReport): Promise<void> {
    await this.write(
      async (client) => {
        if (!(await extendLease(client, lease.id, lease.leaseToken, leaseMs, report.progress))) throw await refusal(client, lease.id, 'heartbeat');
        await addCounts(client, reportsOf(lease.id, report));
      },
      { label: 'heartbeat', taskId: lease.id },
    );
  }

  heartbeatWorker(workerId: string, leaseMs: number, taskIds: readonly number[]) {
    return this.write((client) => extendWorkerLeases(client, workerId, leaseMs, taskIds), { label: 'heartbeat' });
  }

  finish(outcomes: readonly FinishInput[]) {
    const only = outcomes.length === 1 ? outcomes[0] : undefined;
    return this.write(
      async (client) => {
        const statuses = await finishTasks(client, outcomes);
        await writeReports(client, acceptedReports(outcomes, statuses));
        await this.pruneCounts(client);
        return statuses;
      },
      { label: only?.kind ?? 'finish', taskId: only?.lease.id },
    );
  }

  async finishAndClaim(outcomes: readonly FinishInput[], next: ClaimInput) {
    // The hot path, one statement; the general one when it cannot answer for every outcome, or
    // has reports (progress, counts) to write in the same transaction.
    if (allCompletions(outcomes) && !outcomes.some((outcome) => outcome.report !== undefined) && !this.pruneDue()) {
      const claimed = await pgWriteOne(this.pool, this.metrics, (db) => completeAllAndClaim(db, outcomes, next), { label: 'finish + claim' });
      if (claimed !== null) return { statuses: outcomes.map((): TaskStatus => 'succeeded'), claimed };
    }
    return this.write(
      async (client) => {
        const statuses = await finishTasks(client, outcomes);
        await writeReports(client, acceptedReports(outcomes, statuses));
        await this.pruneCounts(client);
        return { statuses, claimed: await claimTasks(client, next) };
      },
      { label: 'finish + claim' },
    );
  }

  async cancel(id: number, reason: string | null): Promise<void> {
    await this.write(
      async (client) => {
        const task = await current(client, id);
        if (task === undefined) throw new TaskNotFoundError(id);
        assertTransition(id, 'cancel', task.status);
        if (!(await cancelTask(client, id, task, reason, await nowOf(client)))) throw await refusal(client, id, 'cancel');
      },
      { label: 'cancel', taskId: id },
    );
  }

  async retry(id: number): Promise<void> {
    await this.write(
      async (client) => {
        const task = await current(client, id);
        if (task === undefined) throw new TaskNotFoundError(id);
        assertTransition(id, 'retry', task.status);
        if (!(await retryTask(client, id, task, await nowOf(client)))) throw await refusal(client, id, 'retry');
      },
      { label: 'retry', taskId: id },
    );
  }

  async moveMany(move: BulkMove, target: MoveTarget, options: MoveManyOptions): Promise<MoveManyResult> {
    const result: MoveManyResult = { changed: [], skipped: [], transactions: 0 };
    const apply = (client: Client, id: number, task: Current, now: number) =>
      move === 'cancel' ? cancelTask(client, id, task, options.reason, now) : retryTask(client, id, task, now);
    const page = async (ids: readonly number[]) => {
      const body = async (client: Client) => {
        // One clock reading per page: every task of it moves at the same instant, as on SQLite.
        const now = await nowOf(client);
        const changed: number[] = [];
        const skipped: MoveManyResult['skipped'] = [];
        for (const id of ids) {
          const task = await current(client, id);
          if (task === undefined) skipped.push({ id, reason: 'not-found', status: null });
          else if (!canTransition(move, task.status)) skipped.push({ id, reason: 'invalid-transition', status: task.status });
          else if (options.dryRun || (await apply(client, id, task, now))) changed.push(id);
          else skipped.push({ id, reason: 'invalid-transition', status: task.status });
        }
        return { changed, skipped };
      };
      const outcome = options.dryRun ? await this.read(body) : await this.write(body, { label: `${move} (bulk)` });
      if (!options.dryRun) result.transactions += 1;
      result.changed.push(...outcome.changed);
      result.skipped.push(...outcome.skipped);
    };
    if ('ids' in target) {
      for (let start = 0; start < target.ids.length; start += options.batchSize) await page(target.ids.slice(start, start + options.batchSize));
      return result;
    }
    const maxId = await maxTaskId(this.pool);
    for (let after = 0; ; ) {
      const found = await this.read(async (client) => idsMatching(client, target.filter, await nowOf(client), after, maxId, options.batchSize));
      if (found.length === 0) return result;
      // The move re-reads each task in its transaction: one that left the filter's status meanwhile is skipped.
      await page(found);
      if (found.length < options.batchSize) return result;
      after = found[found.length - 1]!;
    }
  }

  purge(statuses: readonly TaskStatus[], cutoff: number) {
    return this.write((client) => purgeTasks(client, statuses, cutoff), { label: 'purge' });
  }

  reclaim(input: ReclaimInput): Promise<ReclaimWrite> {
    return this.write(
      async (client) => {
        const now = await nowOf(client);
        const reclaimed: ReclaimWrite['reclaimed'] = [];
        const silentDead = await lockStillSilent(client, input.silentWorkerIds, now);
        const dead = [...input.deadWorkerIds, ...silentDead];
        for (const task of await candidatesIn(client, dead, now, input.limit, true)) {
          const detail = input.detail(task, now);
          if (detail === null) continue;
          const status = await reclaimTask(client, task, now, detail);
          if (status !== undefined) reclaimed.push({ task, status });
        }
        for (const id of dead) await markCrashed(client, id, now, input.crashedBy);
        const pruned = await pruneWorkers(client, input.pruneBefore);
        if (reclaimed.length > 0) {
          await notifyChange(client);
          await notifyEnd(client);
        }
        return { reclaimed, silentDead, pruned };
      },
      { label: 'reclaim' },
    );
  }

  async awaitEnds(ids: readonly number[]): Promise<void> {
    await pgWriteOne(this.pool, this.metrics, (db) => markAwaited(db, ids), { label: 'await', taskId: ids.length === 1 ? ids[0] : undefined });
  }

  async recordHandler(lease: LeaseRef, handler: HandlerProcess): Promise<void> {
    await this.write(
      async (client) => {
        if (!(await recordHandlerOn(client, lease.id, lease.leaseToken, handler))) throw await handlerRefusal(client, lease.id);
      },
      { label: 'record handler', taskId: lease.id },
    );
  }

  async registerWorker(worker: NewWorker): Promise<void> {
    await this.write((client) => registerWorkerRow(client, worker), { label: 'register worker' });
  }

  async stopWorker(id: string, now: number): Promise<void> {
    await this.write((client) => markStopped(client, id, now), { label: 'stop worker' });
  }

  // ── Reads ──────────────────────────────────────────────────────────────────────────────────

  get(id: number) {
    return taskById(this.pool, id);
  }

  list(filter: FilterInput, order: 'asc' | 'desc', afterId: number | null, limit: number, now: number) {
    return listTasks(this.pool, filter, order, afterId, limit, now);
  }

  runs(id: number) {
    return runsOf(this.pool, id);
  }

  events(id: number) {
    return eventsOf(this.pool, id);
  }

  counters(ids: readonly number[]) {
    return countersOf(this.pool, ids);
  }

  eventLog(after: EventCursor, limit: number) {
    return eventLog(this.pool, after, limit);
  }

  workers() {
    return allWorkers(this.pool);
  }

  transitionCounts() {
    return transitionCounts(this.pool);
  }

  workersOnHost(host: string) {
    return workersOf(this.pool, host);
  }

  silentWorkers(host: string, _now: number) {
    return silentElsewhere(this.pool, host);
  }

  reclaimCandidates(deadWorkerIds: readonly string[], _now: number, limit: number) {
    return this.read(async (client) => candidatesIn(client, deadWorkerIds, await nowOf(client), limit, false));
  }

  anyPrunableWorkers(cutoff: number) {
    return anyPrunable(this.pool, cutoff);
  }

  stats(_now: number): Promise<StoreCounts> {
    return this.read(async (client) => ({ ...(await countsAt(client, await nowOf(client))), counters: await counterTotals(client) }));
  }

  backlog(queue: string, types: readonly string[] | null, _now: number): Promise<Backlog> {
    return backlogOf(this.pool, queue, types);
  }

  hasDue(queue: string, types: readonly string[] | null, _now: number) {
    return anyDue(this.pool, queue, types);
  }

  nextDueInMs(queue: string, types: readonly string[] | null, _now: number) {
    return nextDueIn(this.pool, queue, types);
  }

  liveCount(queue: string, types: readonly string[] | null) {
    return liveTasks(this.pool, queue, types);
  }

  // ── The store itself ───────────────────────────────────────────────────────────────────────

  changeSignal(topic: ChangeTopic = 'due'): ChangeSignal {
    return new PgChangeSignal(this.connectionString, topic === 'any' ? [CHANGE_CHANNEL, END_CHANNEL] : [topic === 'end' ? END_CHANNEL : CHANGE_CHANNEL]);
  }

  monitor(options: MonitorOptions = {}): StoreMonitor {
    return new PgMonitor((fn) => this.read(fn), options.rebaseEveryMs);
  }

  describe(): StoreDescription {
    return {
      engine: 'postgres',
      engineVersion: this.serverVersion,
      location: redacted(this.connectionString),
      lock: { strategy: 'row locks', path: 'FOR UPDATE SKIP LOCKED; migrations under pg_advisory_xact_lock' },
      schemaVersion: this.schemaVersion,
      appliedMigrations: this.appliedMigrations,
    };
  }

  diagnose(options: DiagnoseOptions = {}): Promise<DiagnosisCheck[]> {
    return diagnosePostgres({
      pool: this.pool,
      emptyWrite: () => this.write(async () => undefined, { label: 'doctor' }),
      serverVersion: this.serverVersion,
      longTransactionMs: options.longTransactionMs ?? DEFAULT_LONG_TRANSACTION_MS,
    });
  }

  writeMetrics() {
    return this.metrics.snapshot();
  }

  writeLatencyBuckets(boundsMs: readonly number[]) {
    return this.metrics.buckets(boundsMs);
  }

  async backup(_dest: string, _options: BackupOptions): Promise<BackupResult> {
    throw new BadInputError('backup of a PostgreSQL store: use pg_dump (tasklock backup copies SQLite files)');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pool.end().catch(() => undefined);
  }

  // ── Moving tasks between stores (sql/transfer.ts) ─────────────────────────────────────────

  exportPage(filter: FilterInput, afterId: number, limit: number, now: number) {
    return this.read((client) => exportPageIn(client, filter, now, afterId, limit));
  }

  async importTasks(records: readonly TaskRecord[]): Promise<void> {
    await this.write((client) => importIn(client, records), { label: 'import' });
  }

  // ── Inside a transaction ───────────────────────────────────────────────────────────────────

  private write<T>(fn: (client: Client) => Promise<T>, options: { label: string; taskId?: number | undefined }): Promise<T> {
    return pgWrite(this.pool, this.metrics, fn, options);
  }

  private pruneDue(): boolean {
    return Date.now() - this.countsPrunedAt >= PRUNE_EVERY_MS;
  }

  /** Once a minute, with a finish: the finish counts that have aged out. */
  private async pruneCounts(client: Client): Promise<void> {
    if (!this.pruneDue()) return;
    this.countsPrunedAt = Date.now();
    await pruneFinishCounts(client);
  }

  /** A consistent read of several statements: one REPEATABLE READ, read-only transaction. */
  private async read<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => Promise.reject(pgFailure(error, { label: 'read' })));
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw pgFailure(error, { label: 'read' });
    } finally {
      client.release();
    }
  }
}

/**
 * Why the first connection failed, in one line naming the server: wrong credentials or a
 * database that does not exist are the caller's to fix (bad input); an unreachable or starting
 * server may answer later (a transient persistence error).
 */
function connectError(error: unknown, location: string): TasklockError {
  const code = sqlState(error);
  const reason = `${code === undefined ? '' : `${code}: `}${errorSummary(error)}`;
  if (code === '28P01' || code === '28000' || code === '3D000') {
    return new BadInputError(`cannot open the PostgreSQL store at ${location}: ${reason}`, { cause: error });
  }
  return new PersistenceError(`cannot reach PostgreSQL at ${location}: ${reason}`, { cause: error, transient: isTransientPg(error) || code === undefined });
}
