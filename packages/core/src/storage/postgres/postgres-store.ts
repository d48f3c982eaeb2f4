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
 * transaction; the event log is the same derived view.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { errorSummary } from '../../error-text.js';
import { BadInputError, PersistenceError, StoreNotFoundError, TaskNotFoundError, type TasklockError } from '../../errors.js';
import { assertTransition, canTransition, type TaskStatus, type TransitionName } from '../../task-state.js';
import { backoffDelayMs, type Backoff } from '../../task.js';
import { handlerRefusalOf, refusalOf } from '../refusal.js';
import type { Backlog, CountRow, FilterInput, HandlerProcess, HeldTask, NewTask, NewWorker, TaskEventRow, TaskRow, TaskRunRow, WorkerRow } from '../rows.js';
import type {
  BackupOptions,
  BackupResult,
  BulkMove,
  ChangeSignal,
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
  TaskStore,
} from '../store.js';
import { WriteMetrics } from '../write-metrics.js';
import { pgPool, redacted } from './connect.js';
import { migrate } from './migrate.js';
import { CHANGE_CHANNEL, PgChangeSignal } from './pg-change-signal.js';
import { isTransientPg, pgFailure, pgWrite, sqlState } from './pg-write.js';

type Client = pg.ClientBase;

export interface PostgresOptions {
  /** Connections this handle may open (default 4: a worker's claim loop, finisher, heartbeats and reads). */
  poolSize?: number;
  /** false: refuse (StoreNotFoundError) a database without tasklock's schema instead of creating it. */
  create?: boolean;
}

const NOW = 'tasklock.now_ms()';
const CLEAR_LEASE = 'lease_token = NULL, lease_expires_at = NULL, locked_by = NULL';
const TYPE_IN_TYPES = '($TYPES::text[] IS NULL OR type = ANY($TYPES::text[]))';

export class PostgresStore implements TaskStore {
  private readonly metrics = new WriteMetrics();
  private closed = false;

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
        const serverNow = await nowOf(client);
        const created: { row: TaskRow; created: boolean }[] = [];
        for (const task of tasks) {
          const { rows } = await client.query<TaskRow>(
            `INSERT INTO tasklock.tasks (type, queue, status, priority, payload, max_attempts, backoff, unique_key, timeout_ms, run_at, created_at, updated_at)
             VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running') DO NOTHING
             RETURNING *`,
            [task.type, task.queue, task.priority, task.payload, task.maxAttempts, task.backoff, task.uniqueKey, task.timeoutMs, task.delayMs === null ? task.runAt : serverNow + task.delayMs, serverNow],
          );
          if (rows[0] !== undefined) {
            created.push({ row: rows[0], created: true });
            continue;
          }
          const live = await client.query<TaskRow>("SELECT * FROM tasklock.tasks WHERE unique_key = $1 AND status IN ('pending', 'running')", [task.uniqueKey]);
          created.push({ row: live.rows[0]!, created: false });
        }
        await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
        return created;
      },
      { label: 'enqueue' },
    );
  }

  claim(input: ClaimInput) {
    return this.write((client) => this.claimIn(client, input), { label: 'claim' });
  }

  async heartbeat(lease: LeaseRef, leaseMs: number, progress: string | null): Promise<void> {
    await this.write(
      async (client) => {
        const { rowCount } = await client.query(
          `UPDATE tasklock.tasks SET lease_expires_at = ${NOW} + $3, progress = COALESCE($4, progress), updated_at = ${NOW}
           WHERE id = $1 AND status = 'running' AND lease_token = $2`,
          [lease.id, lease.leaseToken, leaseMs, progress],
        );
        if (rowCount !== 1) throw await this.refusal(client, lease.id, 'heartbeat');
      },
      { label: 'heartbeat', taskId: lease.id },
    );
  }

  heartbeatWorker(workerId: string, leaseMs: number) {
    return this.write(
      async (client) => {
        await client.query(`UPDATE tasklock.workers SET last_seen = ${NOW} WHERE id = $1`, [workerId]);
        const { rows } = await client.query<{ id: number; lease_token: string }>(
          `UPDATE tasklock.tasks SET lease_expires_at = ${NOW} + $2 WHERE status = 'running' AND locked_by = $1 RETURNING id, lease_token`,
          [workerId, leaseMs],
        );
        return new Map(rows.map((row) => [row.id, row.lease_token]));
      },
      { label: 'heartbeat' },
    );
  }

  finish(outcomes: readonly FinishInput[]) {
    const only = outcomes.length === 1 ? outcomes[0] : undefined;
    return this.write(async (client) => this.finishIn(client, outcomes, await nowOf(client)), { label: only?.kind ?? 'finish', taskId: only?.lease.id });
  }

  finishAndClaim(outcomes: readonly FinishInput[], next: ClaimInput) {
    return this.write(
      async (client) => {
        const statuses = await this.finishIn(client, outcomes, await nowOf(client));
        return { statuses, claimed: await this.claimIn(client, next) };
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
        if (!(await cancelIn(client, id, task, reason, await nowOf(client)))) throw await this.refusal(client, id, 'cancel');
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
        if (!(await retryIn(client, id, task, await nowOf(client)))) throw await this.refusal(client, id, 'retry');
      },
      { label: 'retry', taskId: id },
    );
  }

  async moveMany(move: BulkMove, target: MoveTarget, options: MoveManyOptions): Promise<MoveManyResult> {
    const result: MoveManyResult = { changed: [], skipped: [], transactions: 0 };
    const apply = (client: Client, id: number, task: Current, now: number) =>
      move === 'cancel' ? cancelIn(client, id, task, options.reason, now) : retryIn(client, id, task, now);
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
    const maxId = (await this.read((client) => client.query<{ id: number | null }>('SELECT max(id) AS id FROM tasklock.tasks'))).rows[0]?.id ?? 0;
    for (let after = 0; ; ) {
      const found = await this.read(async (client) => {
        const filter = filterSql(target.filter, await nowOf(client), 4);
        const { rows } = await client.query<{ id: number }>(
          `SELECT id FROM tasklock.tasks WHERE id > $1 AND id <= $2 AND ${filter.sql} ORDER BY id LIMIT $3`,
          [after, maxId, options.batchSize, ...filter.params],
        );
        return rows.map((row) => row.id);
      });
      if (found.length === 0) return result;
      // The move re-reads each task in its transaction: one that left the filter's status meanwhile is skipped.
      await page(found);
      if (found.length < options.batchSize) return result;
      after = found[found.length - 1]!;
    }
  }

  purge(statuses: readonly TaskStatus[], cutoff: number) {
    return this.write(
      async (client) =>
        (
          await client.query(
            "DELETE FROM tasklock.tasks WHERE status = ANY($1::text[]) AND status IN ('succeeded', 'failed', 'cancelled') AND updated_at <= $2",
            [statuses, cutoff],
          )
        ).rowCount ?? 0,
      { label: 'purge' },
    );
  }

  reclaim(input: ReclaimInput): Promise<ReclaimWrite> {
    return this.write(
      async (client) => {
        const now = await nowOf(client);
        const reclaimed: ReclaimWrite['reclaimed'] = [];
        for (const task of await candidatesIn(client, input.deadWorkerIds, now, input.limit, true)) {
          const detail = input.detail(task, now);
          if (detail === null) continue;
          const { rows } = await client.query<{ status: TaskStatus; attempts: number }>(
            `UPDATE tasklock.tasks SET status = CASE WHEN attempts - released < max_attempts THEN 'pending' ELSE 'failed' END,
                    finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE $3::bigint END,
                    last_error = $4, run_at = $3, updated_at = $3, ${CLEAR_LEASE}
             WHERE id = $1 AND status = 'running' AND lease_token = $2
             RETURNING status, attempts`,
            [task.id, task.lease_token, now, detail],
          );
          const row = rows[0];
          if (row === undefined) continue;
          await closeRun(client, task.id, row.attempts, now, 'reclaimed', detail, null);
          await recordEvent(client, task.id, now, 'reclaim', 'running', row.status, row.attempts, task.locked_by, detail);
          reclaimed.push({ task, status: row.status });
        }
        for (const id of input.deadWorkerIds) {
          await client.query('UPDATE tasklock.workers SET crashed_at = $2, crashed_by = $3 WHERE id = $1 AND coalesce(stopped_at, crashed_at) IS NULL', [id, now, input.crashedBy]);
        }
        const pruned = await client.query(`DELETE FROM tasklock.workers WHERE coalesce(stopped_at, crashed_at) <= $1 AND NOT ${HOLDS_TASKS}`, [input.pruneBefore]);
        if (reclaimed.length > 0) await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
        return { reclaimed, pruned: pruned.rowCount ?? 0 };
      },
      { label: 'reclaim' },
    );
  }

  async recordHandler(lease: LeaseRef, handler: HandlerProcess): Promise<void> {
    await this.write(
      async (client) => {
        const { rowCount } = await client.query(
          `UPDATE tasklock.task_runs SET handler_pgid = $3, handler_start = $4, handler_host = $5
           WHERE task_id = $1 AND outcome = 'running' AND handler_pgid IS NULL
             AND attempt = (SELECT attempts FROM tasklock.tasks WHERE id = $1 AND status = 'running' AND lease_token = $2)`,
          [lease.id, lease.leaseToken, handler.pgid, handler.start, handler.host],
        );
        if (rowCount !== 1) throw handlerRefusalOf(lease.id, (await current(client, lease.id))?.status);
      },
      { label: 'record handler', taskId: lease.id },
    );
  }

  async registerWorker(worker: NewWorker): Promise<void> {
    await this.write(
      (client) =>
        client.query(
          `INSERT INTO tasklock.workers (id, pid, host, process_start, queue, types, started_at, last_seen)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, process_start = excluded.process_start,
             queue = excluded.queue, types = excluded.types, started_at = excluded.started_at,
             last_seen = excluded.last_seen, stopped_at = NULL, crashed_at = NULL, crashed_by = NULL`,
          [worker.id, worker.pid, worker.host, worker.process_start, worker.queue, worker.types, worker.started_at],
        ),
      { label: 'register worker' },
    );
  }

  async stopWorker(id: string, now: number): Promise<void> {
    await this.write((client) => client.query('UPDATE tasklock.workers SET stopped_at = $2 WHERE id = $1 AND coalesce(stopped_at, crashed_at) IS NULL', [id, now]), {
      label: 'stop worker',
    });
  }

  // ── Reads ──────────────────────────────────────────────────────────────────────────────────

  async get(id: number) {
    return (await this.pool.query<TaskRow>('SELECT * FROM tasklock.tasks WHERE id = $1', [id])).rows[0];
  }

  async list(filter: FilterInput, order: 'asc' | 'desc', afterId: number | null, limit: number, now: number) {
    const where = filterSql(filter, now, 3);
    const cursor = order === 'asc' ? (afterId ?? 0) : (afterId ?? Number.MAX_SAFE_INTEGER);
    const { rows } = await this.pool.query<TaskRow>(
      `SELECT * FROM tasklock.tasks WHERE id ${order === 'asc' ? '>' : '<'} $1 AND ${where.sql} ORDER BY id ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT $2`,
      [cursor, limit, ...where.params],
    );
    return rows;
  }

  async runs(id: number) {
    return (await this.pool.query<TaskRunRow>('SELECT * FROM tasklock.task_runs WHERE task_id = $1 ORDER BY attempt', [id])).rows;
  }

  async events(id: number) {
    return (
      await this.pool.query<TaskEventRow>(
        `SELECT id, task_id, at, transition, from_status, to_status, attempt, worker_id, detail
         FROM tasklock.task_event_log WHERE task_id = $1 ORDER BY attempt, rank, id`,
        [id],
      )
    ).rows;
  }

  async workers() {
    return (await this.pool.query<WorkerRow>('SELECT * FROM tasklock.workers ORDER BY started_at DESC, id')).rows;
  }

  async workersOnHost(host: string) {
    return (
      await this.pool.query<WorkerRow>(`SELECT * FROM tasklock.workers WHERE host = $1 AND (coalesce(stopped_at, crashed_at) IS NULL OR ${HOLDS_TASKS})`, [host])
    ).rows;
  }

  async reclaimCandidates(deadWorkerIds: readonly string[], _now: number, limit: number) {
    return this.read(async (client) => candidatesIn(client, deadWorkerIds, await nowOf(client), limit, false));
  }

  async anyPrunableWorkers(cutoff: number) {
    const { rows } = await this.pool.query(`SELECT 1 FROM tasklock.workers WHERE coalesce(stopped_at, crashed_at) <= $1 AND NOT ${HOLDS_TASKS} LIMIT 1`, [cutoff]);
    return rows.length > 0;
  }

  async stats(_now: number): Promise<StoreCounts> {
    return this.read(async (client) => {
      const now = await nowOf(client);
      const counts = await client.query<CountRow>(
        `SELECT queue, type, CASE WHEN status = 'pending' AND run_at > $1 THEN 'scheduled' ELSE status END AS status, count(*)::int AS count
         FROM tasklock.tasks GROUP BY queue, type, 3`,
        [now],
      );
      const oldest = await client.query<{ run_at: number | null }>("SELECT min(run_at) AS run_at FROM tasklock.tasks WHERE status = 'pending' AND run_at <= $1", [now]);
      const overdue = await client.query<{ count: number }>("SELECT count(*)::int AS count FROM tasklock.tasks WHERE status = 'running' AND lease_expires_at <= $1", [now]);
      return { counts: counts.rows, oldestDueRunAt: oldest.rows[0]?.run_at ?? null, overdueLeases: overdue.rows[0]?.count ?? 0 };
    });
  }

  async backlog(queue: string, types: readonly string[] | null, _now: number): Promise<Backlog> {
    const { rows } = await this.pool.query<Backlog>(
      `SELECT p.due, r.running, p.scheduled, p.next_run_at AS "nextRunAt" FROM
         (SELECT count(*) FILTER (WHERE run_at <= n.ms)::int AS due, count(*) FILTER (WHERE run_at > n.ms)::int AS scheduled,
                 min(run_at) FILTER (WHERE run_at > n.ms) AS next_run_at
          FROM tasklock.tasks, (SELECT ${NOW} AS ms) n WHERE status = 'pending' AND queue = $1 AND ${types$(2)}) AS p,
         (SELECT count(*)::int AS running FROM tasklock.tasks WHERE status = 'running' AND queue = $1 AND ${types$(2)}) AS r`,
      [queue, types],
    );
    return rows[0] ?? { due: 0, running: 0, scheduled: 0, nextRunAt: null };
  }

  async hasDue(queue: string, types: readonly string[] | null, _now: number) {
    const { rows } = await this.pool.query(`SELECT 1 FROM tasklock.tasks WHERE status = 'pending' AND queue = $1 AND run_at <= ${NOW} AND ${types$(2)} LIMIT 1`, [
      queue,
      types,
    ]);
    return rows.length > 0;
  }

  async nextRunAt(queue: string, types: readonly string[] | null) {
    const { rows } = await this.pool.query<{ run_at: number | null }>(
      `SELECT min(run_at) AS run_at FROM tasklock.tasks WHERE status = 'pending' AND queue = $1 AND ${types$(2)}`,
      [queue, types],
    );
    return rows[0]?.run_at ?? null;
  }

  async liveCount(queue: string, types: readonly string[] | null) {
    const { rows } = await this.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM tasklock.tasks WHERE status IN ('pending', 'running') AND queue = $1 AND ${types$(2)}`,
      [queue, types],
    );
    return rows[0]?.count ?? 0;
  }

  // ── The store itself ───────────────────────────────────────────────────────────────────────

  changeSignal(): ChangeSignal {
    return new PgChangeSignal(this.connectionString);
  }

  monitor(): StoreMonitor {
    throw new BadInputError('the live view (stats --watch) is not available on the PostgreSQL store yet');
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

  async diagnose(): Promise<DiagnosisCheck[]> {
    const version = await this.pool.query<{ num: number }>("SELECT current_setting('server_version_num')::int AS num");
    return [
      { name: 'server', ok: version.rows[0]!.num >= 130000, detail: `PostgreSQL ${this.serverVersion} (13 or newer needed)` },
      { name: 'schema', ok: true, detail: `schema version ${this.schemaVersion}` },
    ];
  }

  writeMetrics() {
    return this.metrics.snapshot();
  }

  async backup(_dest: string, _options: BackupOptions): Promise<BackupResult> {
    throw new BadInputError('backup of a PostgreSQL store: use pg_dump (tasklock backup copies SQLite files)');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pool.end().catch(() => undefined);
  }

  // ── Inside a transaction ───────────────────────────────────────────────────────────────────

  private write<T>(fn: (client: Client) => Promise<T>, options: { label: string; taskId?: number | undefined }): Promise<T> {
    return pgWrite(this.pool, this.metrics, fn, options);
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

  private async refusal(client: Client, id: number, transition: TransitionName): Promise<TasklockError> {
    return refusalOf(id, transition, (await current(client, id))?.status);
  }

  private async claimIn(client: Client, input: ClaimInput): Promise<TaskRow[]> {
    const nonce = randomBytes(6).toString('hex');
    const { rows } = await client.query<TaskRow>(
      `WITH n AS (SELECT ${NOW} AS ms),
            picked AS (
              SELECT id FROM tasklock.tasks, n
              WHERE status = 'pending' AND queue = $1 AND run_at <= n.ms AND ${types$(2)}
              ORDER BY priority DESC, run_at, id
              LIMIT $3
              FOR UPDATE OF tasks SKIP LOCKED)
       UPDATE tasklock.tasks t
       SET status = 'running', attempts = t.attempts + 1, lease_token = $4 || ':' || t.id || ':' || (t.attempts + 1),
           lease_expires_at = n.ms + $5, locked_by = $6, updated_at = n.ms
       FROM picked, n WHERE t.id = picked.id
       RETURNING t.*`,
      [input.queue, input.types, input.limit, nonce, input.leaseMs, input.workerId],
    );
    rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
    if (rows.length > 0) {
      await client.query(
        `INSERT INTO tasklock.task_runs (task_id, attempt, worker_id, lease_token, started_at, outcome)
         SELECT r.id, r.attempt, $4, r.token, $5, 'running' FROM unnest($1::bigint[], $2::int[], $3::text[]) AS r (id, attempt, token)`,
        [rows.map((r) => r.id), rows.map((r) => r.attempts), rows.map((r) => r.lease_token), input.workerId, rows[0]!.updated_at],
      );
    }
    return rows;
  }

  private async finishIn(client: Client, outcomes: readonly FinishInput[], now: number): Promise<(TaskStatus | TasklockError)[]> {
    const statuses: (TaskStatus | TasklockError)[] = [];
    let wake = false;
    for (const outcome of outcomes) {
      const { id, leaseToken: token } = outcome.lease;
      let row: { attempts: number; status: TaskStatus; type: string } | undefined;
      let error: string | null = null;
      if (outcome.kind === 'complete') {
        row = (
          await client.query(
            `UPDATE tasklock.tasks SET status = 'succeeded', result = $3, updated_at = $4, finished_at = $4, ${CLEAR_LEASE}
             WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
            [id, token, outcome.result, now],
          )
        ).rows[0];
      } else if (outcome.kind === 'fail') {
        error = outcome.error;
        const held = (
          await client.query<{ attempts: number; released: number; max_attempts: number; backoff: string }>(
            "SELECT attempts, released, max_attempts, backoff FROM tasklock.tasks WHERE id = $1 AND status = 'running' AND lease_token = $2",
            [id, token],
          )
        ).rows[0];
        if (held !== undefined) {
          const retry = held.attempts - held.released < held.max_attempts;
          const runAt = retry ? now + backoffDelayMs(JSON.parse(held.backoff) as Backoff, held.attempts) : now;
          row = (
            await client.query(
              `UPDATE tasklock.tasks SET status = $3, last_error = $4, run_at = $5, updated_at = $6,
                      finished_at = CASE WHEN $3 = 'failed' THEN $6::bigint END, ${CLEAR_LEASE}
               WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
              [id, token, retry ? 'pending' : 'failed', outcome.error, runAt, now],
            )
          ).rows[0];
          wake ||= retry;
        }
      } else {
        row = (
          await client.query(
            `UPDATE tasklock.tasks SET status = 'pending', run_at = $3, updated_at = $3, released = released + 1, ${CLEAR_LEASE}
             WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING attempts, status, type`,
            [id, token, now],
          )
        ).rows[0];
        wake = true;
      }
      if (row === undefined) {
        statuses.push(await this.refusal(client, id, outcome.kind));
        continue;
      }
      const ended = outcome.kind === 'complete' ? 'succeeded' : outcome.kind === 'release' ? 'released' : row.status === 'failed' ? 'failed' : 'retry';
      await closeRun(client, id, row.attempts, now, ended, error, outcome.workerId);
      await client.query(
        `INSERT INTO tasklock.finish_counts (second, type, outcome, count) VALUES ($1, $2, $3, 1)
         ON CONFLICT (second, type, outcome) DO UPDATE SET count = finish_counts.count + 1`,
        [Math.floor(now / 1000), row.type, ended],
      );
      statuses.push(row.status);
    }
    if (wake) await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
    return statuses;
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

/** A worker holding running tasks is never pruned: its row names who held them. */
const HOLDS_TASKS = "id IN (SELECT locked_by FROM tasklock.tasks WHERE status = 'running')";

/** The types clause with its parameter number (null: every type). */
function types$(n: number): string {
  return TYPE_IN_TYPES.replaceAll('$TYPES', `$${n}`);
}

async function nowOf(client: Client): Promise<number> {
  return (await client.query<{ ms: number }>(`SELECT ${NOW} AS ms`)).rows[0]!.ms;
}

interface Current {
  status: TaskStatus;
  attempts: number;
  locked_by: string | null;
}

async function current(client: Client, id: number): Promise<Current | undefined> {
  return (await client.query<Current>('SELECT status, attempts, locked_by FROM tasklock.tasks WHERE id = $1', [id])).rows[0];
}

async function cancelIn(client: Client, id: number, task: Current, reason: string | null, now: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.tasks SET status = 'cancelled', updated_at = $3, finished_at = $3, ${CLEAR_LEASE} WHERE id = $1 AND status = $2`,
    [id, task.status, now],
  );
  if (rowCount !== 1) return false;
  if (task.status === 'running') await closeRun(client, id, task.attempts, now, 'cancelled', reason, null);
  await recordEvent(client, id, now, 'cancel', task.status, 'cancelled', task.attempts, task.locked_by, reason);
  return true;
}

async function retryIn(client: Client, id: number, task: Current, now: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE tasklock.tasks SET status = 'pending', run_at = $3, updated_at = $3, finished_at = NULL,
            max_attempts = GREATEST(max_attempts, attempts - released + 1)
     WHERE id = $1 AND status = $2`,
    [id, task.status, now],
  );
  if (rowCount !== 1) return false;
  await recordEvent(client, id, now, 'retry', task.status, 'pending', task.attempts, null, null);
  await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
  return true;
}

async function closeRun(client: Client, taskId: number, attempt: number, now: number, outcome: string, error: string | null, finishedBy: string | null): Promise<void> {
  await client.query(
    `UPDATE tasklock.task_runs SET finished_at = $3, outcome = $4, error = $5,
            finished_by = CASE WHEN worker_id IS NOT DISTINCT FROM $6::text THEN NULL ELSE $6::text END
     WHERE task_id = $1 AND attempt = $2 AND outcome = 'running'`,
    [taskId, attempt, now, outcome, error, finishedBy],
  );
}

async function recordEvent(
  client: Client,
  taskId: number,
  at: number,
  transition: TransitionName,
  from: TaskStatus | null,
  to: TaskStatus,
  attempt: number,
  workerId: string | null,
  detail: string | null,
): Promise<void> {
  await client.query(
    `INSERT INTO tasklock.task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [taskId, at, transition, from, to, attempt, workerId, detail],
  );
}

/** The dead workers' tasks, then expired leases (oldest first, `limit`), each task once; `lock`: inside the sweep's write. */
async function candidatesIn(client: Client, deadWorkerIds: readonly string[], now: number, limit: number, lock: boolean): Promise<HeldTask[]> {
  const columns = 't.id, t.attempts, t.locked_by, t.lease_token, r.handler_pgid, r.handler_start, r.handler_host';
  const run = 'LEFT JOIN tasklock.task_runs r ON r.task_id = t.id AND r.attempt = t.attempts';
  const forUpdate = lock ? 'FOR UPDATE OF t SKIP LOCKED' : '';
  const byId = new Map<number, HeldTask>();
  if (deadWorkerIds.length > 0) {
    const owned = await client.query<HeldTask>(
      `SELECT ${columns}, 'dead-owner' AS why FROM tasklock.tasks t ${run} WHERE t.status = 'running' AND t.locked_by = ANY($1::text[]) ORDER BY t.id ${forUpdate}`,
      [deadWorkerIds],
    );
    for (const task of owned.rows) byId.set(task.id, task);
  }
  const expired = await client.query<HeldTask>(
    `SELECT ${columns}, 'lease-expired' AS why FROM tasklock.tasks t ${run}
     WHERE t.status = 'running' AND t.lease_expires_at <= $1 ORDER BY t.lease_expires_at LIMIT $2 ${forUpdate}`,
    [now, limit],
  );
  for (const task of expired.rows) if (!byId.has(task.id)) byId.set(task.id, task);
  return [...byId.values()];
}

/** The store-neutral filter as SQL, its parameters numbered from `first`. */
function filterSql(filter: FilterInput, now: number, first: number): { sql: string; params: unknown[] } {
  const statuses = filter.statuses;
  const stored = (statuses ?? []).filter((s) => s !== 'pending' && s !== 'scheduled');
  const params: unknown[] = [
    statuses === null,
    stored,
    statuses?.includes('pending') ?? false,
    statuses?.includes('scheduled') ?? false,
    now,
    filter.types,
    filter.queues,
    filter.updatedBefore,
  ];
  const p = (i: number) => `$${first + i}`;
  const sql = `(${p(0)}::boolean OR status = ANY(${p(1)}::text[])
      OR (${p(2)}::boolean AND status = 'pending' AND run_at <= ${p(4)}::bigint)
      OR (${p(3)}::boolean AND status = 'pending' AND run_at > ${p(4)}::bigint))
    AND (${p(5)}::text[] IS NULL OR type = ANY(${p(5)}::text[]))
    AND (${p(6)}::text[] IS NULL OR queue = ANY(${p(6)}::text[]))
    AND (${p(7)}::bigint IS NULL OR updated_at <= ${p(7)}::bigint)`;
  return { sql, params };
}
