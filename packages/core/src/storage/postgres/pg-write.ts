/**
 * The PostgreSQL store's one write path: a pooled connection, BEGIN, the body, COMMIT, release.
 * Writers exclude one another with the server's row locks (a claim skips the rows others hold:
 * FOR UPDATE SKIP LOCKED), not with a lock of tasklock's. A serialization failure or a deadlock
 * (40001, 40P01) is retried with jittered backoff; anything else rolls back and surfaces as a
 * PersistenceError carrying the SQLSTATE (`engineCode`) and the task id. Callers change their
 * in-memory state only after this resolves. A body of one statement may go without BEGIN and
 * COMMIT (pgWriteOne): the server makes that statement a transaction of its own.
 */
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type BackoffPolicy } from '../../backoff.js';
import { errorSummary } from '../../error-text.js';
import { PersistenceError, TasklockError } from '../../errors.js';
import type { WriteMetrics } from '../write-metrics.js';

export interface PgRetryPolicy extends BackoffPolicy {
  attempts: number;
}

export const PG_RETRY: PgRetryPolicy = { attempts: 6, baseDelayMs: 5, maxDelayMs: 500 };

export interface PgWriteOptions {
  taskId?: number | undefined;
  label?: string;
}

/** SQLSTATE classes after which the same transaction may succeed when tried again. */
const RETRYABLE = new Set(['40001', '40P01']);

export function pgWrite<T>(
  pool: pg.Pool,
  metrics: WriteMetrics,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: PgWriteOptions = {},
  retry: PgRetryPolicy = PG_RETRY,
): Promise<T> {
  return attempts(pool, metrics, options, retry, true, fn);
}

/** A client that runs one statement: a second is refused. */
export type OneStatement = Pick<pg.PoolClient, 'query'>;

/**
 * pgWrite for a body of exactly one statement, sent without BEGIN and COMMIT: PostgreSQL runs a
 * statement outside a transaction block as a transaction of its own, whole or not at all, and
 * the two round trips are saved. The body's client refuses a second statement (it would commit
 * on its own). Retried as pgWrite is (40001, 40P01: the statement rolled back whole), and after
 * a connection loss too, on another connection: mostly the connection had died idle in the pool
 * and the statement never ran; if it had committed before the connection broke, trying again is
 * what the caller would do on the error anyway (a fenced finish is then refused, a claim takes
 * other tasks and the first claim's come back when their lease runs out), as after a COMMIT whose
 * answer was lost.
 */
export function pgWriteOne<T>(pool: pg.Pool, metrics: WriteMetrics, fn: (client: OneStatement) => Promise<T>, options: PgWriteOptions = {}, retry: PgRetryPolicy = PG_RETRY): Promise<T> {
  return attempts(pool, metrics, options, retry, false, (client) => fn(oneStatement(client)));
}

function oneStatement(client: pg.PoolClient): OneStatement {
  let sent = false;
  const query = (...args: unknown[]) => {
    if (sent) throw new Error('pgWriteOne: a second statement would be a transaction of its own');
    sent = true;
    return (client.query as (...a: unknown[]) => unknown)(...args);
  };
  return { query: query as pg.PoolClient['query'] };
}

async function attempts<T>(
  pool: pg.Pool,
  metrics: WriteMetrics,
  options: PgWriteOptions,
  retry: PgRetryPolicy,
  block: boolean,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const waitStarted = performance.now();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      metrics.failures += 1;
      throw pgFailure(error, options, attempt);
    }
    const heldSince = performance.now();
    metrics.lockWait.record(heldSince - waitStarted);
    let broken: unknown = undefined;
    try {
      if (block) {
        try {
          await client.query('BEGIN');
        } catch (error) {
          // The connection died while idle in the pool (the server restarted or ended it) and the
          // pool had not heard yet: nothing was sent, so another connection may try it all.
          broken = error;
          if (!isConnectionLoss(error) || attempt >= retry.attempts) throw error;
          continue;
        }
      }
      const result = await fn(client);
      if (block) await client.query('COMMIT');
      metrics.transactions += 1;
      return result;
    } catch (error) {
      const lost = !block && isConnectionLoss(error);
      if (lost) broken = error;
      // Outside a block the failed statement has already rolled itself back.
      if (block && broken === undefined) await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
      if (!(RETRYABLE.has(sqlState(error) ?? '') || lost) || attempt >= retry.attempts) {
        metrics.failures += 1;
        throw pgFailure(error, options, attempt);
      }
    } finally {
      metrics.lockHold.record(performance.now() - heldSince);
      // A connection that failed (at BEGIN, or its ROLLBACK) is not handed back to the pool: it is destroyed.
      client.release(broken === undefined ? undefined : broken instanceof Error ? broken : new Error(String(broken)));
    }
    metrics.busyRetries += 1;
    await sleep(backoffMs(retry, attempt));
  }
}

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The connection is gone: the server ended it (57P01…, 08…), the socket broke, or node-postgres
 * found it dead (its messages carry no code: "Connection terminated unexpectedly", "Client has
 * encountered a connection error and is not queryable").
 */
function isConnectionLoss(error: unknown): boolean {
  const code = sqlState(error) ?? '';
  return /^(08|57P0)/.test(code) || ['ECONNRESET', 'EPIPE'].includes(code) || (error instanceof Error && /Connection terminated|not queryable/.test(error.message));
}

/**
 * Trying later may succeed: a connection lost, a server shutting down or starting, resources
 * short, or a statement cancelled by statement_timeout (57014) or lock_timeout (55P03) — the
 * transaction rolled back whole, and what blocked it (a long lock holder) passes.
 */
export function isTransientPg(error: unknown): boolean {
  const code = sqlState(error) ?? '';
  return (
    RETRYABLE.has(code) ||
    isConnectionLoss(error) ||
    /^(08|53|57P)/.test(code) ||
    ['57014', '55P03', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT'].includes(code)
  );
}

/** A driver or server error as tasklock's: a PersistenceError naming the SQLSTATE, transient when trying later may succeed. */
export function pgFailure(error: unknown, options: PgWriteOptions, attempt = 1): TasklockError {
  if (error instanceof TasklockError) return error;
  const what = options.label ?? 'write';
  const task = options.taskId === undefined ? '' : `task ${options.taskId}: `;
  const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
  return new PersistenceError(`${task}${what} failed${tries}: ${sqlState(error) ?? 'error'}: ${errorSummary(error)}`, {
    cause: error,
    taskId: options.taskId,
    transient: isTransientPg(error),
  });
}
