/**
 * The PostgreSQL store's one write path: a pooled connection, BEGIN, the body, COMMIT, release.
 * Writers exclude one another with the server's row locks (a claim skips the rows others hold:
 * FOR UPDATE SKIP LOCKED), not with a lock of tasklock's. A serialization failure or a deadlock
 * (40001, 40P01) is retried with jittered backoff; anything else rolls back and surfaces as a
 * PersistenceError carrying the SQLSTATE (`engineCode`) and the task id. Callers change their
 * in-memory state only after this resolves.
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

export async function pgWrite<T>(
  pool: pg.Pool,
  metrics: WriteMetrics,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: PgWriteOptions = {},
  retry: PgRetryPolicy = PG_RETRY,
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
      try {
        await client.query('BEGIN');
      } catch (error) {
        // The connection died while idle in the pool (the server restarted or ended it) and the
        // pool had not heard yet: nothing was sent, so another connection may try it all.
        broken = error;
        if (!isConnectionLoss(error) || attempt >= retry.attempts) throw error;
        continue;
      }
      const result = await fn(client);
      await client.query('COMMIT');
      metrics.transactions += 1;
      return result;
    } catch (error) {
      if (broken === undefined) await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
      if (!RETRYABLE.has(sqlState(error) ?? '') || attempt >= retry.attempts) {
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
