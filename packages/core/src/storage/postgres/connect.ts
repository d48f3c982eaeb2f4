/**
 * A pool of connections to the PostgreSQL store's database. Integers come back as numbers (the
 * rows are epoch ms and counts, all within 2^53), set on this pool only: an application's own
 * node-postgres pools keep their parsers.
 */
import pg from 'pg';

const INT8 = 20;

export function pgPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
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
