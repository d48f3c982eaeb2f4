/**
 * A pool of connections to the PostgreSQL store's database. Integers come back as numbers (the
 * rows are epoch ms and counts, all within 2^53), set on this pool only: an application's own
 * node-postgres pools keep their parsers. A statement run on the pool itself (the store's
 * one-statement reads) fails as a write does: a PersistenceError with the SQLSTATE, `transient`
 * when the server is away (a restart, a cut connection, a statement timeout), so that a worker
 * reading while the server restarts rides the outage out instead of dying of a raw driver error.
 */
import pg from 'pg';
import { pgFailure } from './pg-write.js';

const INT8 = 20;

class StorePool extends pg.Pool {
  // Only the promise form is used by tasklock; a callback-style call passes through untouched.
  override query = ((...args: unknown[]) => {
    const result = (pg.Pool.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(pgFailure(error, { label: 'read' }))) : result;
  }) as pg.Pool['query'];
}

export function pgPool(connectionString: string, max: number): pg.Pool {
  const pool = new StorePool({
    connectionString,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server ends (a restart, pg_terminate_backend, a dropped database) is
  // an 'error' on the pool, which would otherwise crash the process: the pool has already let go
  // of that connection, and the next query opens a new one (and fails there, typed, if it must).
  pool.on('error', () => undefined);
  // A connection cut while checked out (pg_terminate_backend or a restart mid-transaction) is an
  // 'error' on its client, which the pool listens to only while the client is idle: unheard, it
  // would crash the process. The failure reaches the caller through the query it fails (and the
  // client, no longer queryable, is dropped on release), so the event itself has nothing to add.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The URL without its password, for messages and describe(). */
export function redacted(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return connectionString.replace(/:[^:@/]*@/, ':***@');
  }
}
