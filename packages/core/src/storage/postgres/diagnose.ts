/**
 * The PostgreSQL store's own checks, as `tasklock doctor` prints them: one empty write transaction
 * through the store's write path (the connection, the role's rights, the time a round trip
 * takes), the server's version, the schema's version, long-running transactions in the
 * database — those holding locks on tasklock's tables first: a transaction that locked task rows
 * and stays open (a session left "idle in transaction", a stuck migration) keeps claims from
 * those rows (SKIP LOCKED passes them by) and vacuum from the dead rows every claim leaves — and
 * how many of the server's connections are in use (each worker holds a pool of them).
 */
import type pg from 'pg';
import type { DiagnosisCheck } from '../store.js';
import { PG_SCHEMA_VERSION } from './schema.js';

/** Older than this, a transaction holding a lock on tasklock's tables is a fault: tasklock's own last milliseconds. */
export const DEFAULT_LONG_TRANSACTION_MS = 30_000;
/** Any transaction open this long holds back vacuum in the whole database: worth a warning. */
const VACUUM_HORIZON_FACTOR = 10;
const MIN_SERVER_VERSION = 130000;

export interface PgDiagnosisInput {
  pool: pg.Pool;
  /** One empty transaction through the store's write path. */
  emptyWrite(): Promise<void>;
  serverVersion: string;
  /** Transactions holding locks on tasklock's tables for longer than this fail the check. */
  longTransactionMs: number;
}

export async function diagnosePostgres(input: PgDiagnosisInput): Promise<DiagnosisCheck[]> {
  // The write goes first: it proves the connection and the role's rights before anything is read.
  return [await writeCheck(input), await serverCheck(input), await schemaCheck(input.pool), await transactionsCheck(input), await connectionsCheck(input.pool)];
}

async function writeCheck(input: PgDiagnosisInput): Promise<DiagnosisCheck> {
  const started = performance.now();
  try {
    await input.emptyWrite();
  } catch (error) {
    return { name: 'write', ok: false, detail: `an empty write transaction failed: ${(error as Error).message}` };
  }
  return { name: 'write', ok: true, detail: `an empty write transaction took ${(performance.now() - started).toFixed(1)} ms (row locks; FOR UPDATE SKIP LOCKED claims)` };
}

async function serverCheck(input: PgDiagnosisInput): Promise<DiagnosisCheck> {
  const { rows } = await input.pool.query<{ num: number }>("SELECT current_setting('server_version_num')::int AS num");
  const ok = rows[0]!.num >= MIN_SERVER_VERSION;
  return { name: 'server', ok, detail: `PostgreSQL ${input.serverVersion}${ok ? '' : ' — tasklock needs 13 or newer'}` };
}

async function schemaCheck(pool: pg.Pool): Promise<DiagnosisCheck> {
  const { rows } = await pool.query<{ value: string }>("SELECT value FROM tasklock.meta WHERE key = 'schema_version'");
  const found = Number(rows[0]?.value);
  return found === PG_SCHEMA_VERSION
    ? { name: 'schema', ok: true, detail: `schema tasklock, version ${found} (current)` }
    : { name: 'schema', ok: false, detail: `schema tasklock, version ${rows[0]?.value ?? 'missing'}, this tasklock expects ${PG_SCHEMA_VERSION} — run tasklock init` };
}

interface OpenTransaction {
  pid: number;
  state: string | null;
  age_ms: number;
  application_name: string;
  holds_tasklock: boolean;
}

async function transactionsCheck(input: PgDiagnosisInput): Promise<DiagnosisCheck> {
  const warnMs = input.longTransactionMs * VACUUM_HORIZON_FACTOR;
  const { rows } = await input.pool.query<OpenTransaction>(
    `SELECT a.pid, a.state, floor(extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint AS age_ms, a.application_name,
            EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE l.pid = a.pid AND n.nspname = 'tasklock') AS holds_tasklock
     FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
       AND a.xact_start < clock_timestamp() - make_interval(secs => $1 / 1000.0)
     ORDER BY a.xact_start`,
    [Math.min(input.longTransactionMs, warnMs)],
  );
  const describe = (t: OpenTransaction) => `pid ${t.pid} (${t.state ?? '?'}${t.application_name ? `, ${t.application_name}` : ''}) open ${Math.round(t.age_ms / 1000)} s`;
  const holding = rows.filter((t) => t.holds_tasklock);
  if (holding.length > 0) {
    return {
      name: 'transactions',
      ok: false,
      detail: `${holding.length} transaction(s) open longer than ${input.longTransactionMs / 1000} s hold locks on tasklock's tables: ${holding.slice(0, 3).map(describe).join('; ')} — claims pass the rows they locked by; end them (SELECT pg_terminate_backend(pid))`,
    };
  }
  const old = rows.filter((t) => t.age_ms >= warnMs);
  if (old.length > 0) {
    return { name: 'transactions', ok: true, warning: true, detail: `${old.length} transaction(s) open longer than ${warnMs / 1000} s in this database hold back vacuum (tasks and runs bloat): ${old.slice(0, 3).map(describe).join('; ')}` };
  }
  return { name: 'transactions', ok: true, detail: `no transaction holding tasklock's tables open longer than ${input.longTransactionMs / 1000} s` };
}

async function connectionsCheck(pool: pg.Pool): Promise<DiagnosisCheck> {
  const { rows } = await pool.query<{ used: number; max: number; reserved: number }>(
    `SELECT (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
            current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved`,
  );
  const { used, max, reserved } = rows[0]!;
  const available = max - reserved;
  const detail = `${used} of ${available} connections in use (max_connections ${max}, ${reserved} reserved); each worker holds up to its pool size`;
  return used >= available * 0.8 ? { name: 'connections', ok: true, warning: true, detail: `${detail} — near the limit: new workers will be refused` } : { name: 'connections', ok: true, detail };
}
