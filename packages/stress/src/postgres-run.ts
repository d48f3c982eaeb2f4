/**
 * A stress run on PostgreSQL: an empty database named by --db postgres://…, or (--pg-private) a
 * server the harness starts for the run in a temporary directory and removes after it — the only
 * kind it may restart (the pg-restart fault). Each worker's connection string names its
 * connections after it (application_name, for pg-kill to aim) and sets its statement_timeout
 * (which pg-timeout outlasts), as a user would in theirs.
 */
import { BadInputError } from '@tasklock/core';
import { pgPool, redacted } from '@tasklock/core/postgres';
import type { PgFaultContext } from './pg-faults.js';
import { startPgServer, type PgServer } from './pg-server.js';
import { isPostgres } from './run-database.js';

export interface PostgresRun {
  url: string;
  /** The URL without its password, for the report. */
  shownUrl: string;
  workerUrl(workerId: string): string;
  faults: Omit<PgFaultContext, 'random'>;
  close(): void;
}

export async function preparePostgres(options: { db: string | null; pgPrivate: boolean; statementTimeoutMs: number }): Promise<PostgresRun | null> {
  if (!options.pgPrivate && (options.db === null || !isPostgres(options.db))) return null;
  let server: PgServer | null = null;
  let url: string;
  if (options.pgPrivate) {
    server = startPgServer();
    await onConnection(server.url, (query) => query('CREATE DATABASE stress'));
    url = withPath(server.url, '/stress');
  } else {
    url = options.db!;
    // The checker counts every task in the database as the run's: it must start empty.
    const tasks = await onConnection(url, async (query) => {
      const [table] = (await query("SELECT to_regclass('tasklock.tasks') IS NOT NULL AS present")) as { present: boolean }[];
      return table!.present ? ((await query('SELECT count(*) AS n FROM tasklock.tasks')) as { n: number }[])[0]!.n : 0;
    });
    if (tasks > 0) throw new BadInputError(`${redacted(url)} already holds tasklock tasks: give the stress run an empty database`);
  }
  return {
    url,
    shownUrl: redacted(url) + (server === null ? '' : ' (a private server, removed after the run)'),
    workerUrl: (workerId) => withParams(url, { application_name: workerId, statement_timeout: String(options.statementTimeoutMs) }),
    faults: { url, server, statementTimeoutMs: options.statementTimeoutMs },
    close: () => server?.stop(),
  };
}

async function onConnection<T>(url: string, fn: (query: (sql: string) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  const pool = pgPool(url, 1);
  try {
    return await fn(async (sql) => (await pool.query(sql)).rows);
  } finally {
    await pool.end();
  }
}

function withPath(url: string, path: string): string {
  const parsed = new URL(url);
  parsed.pathname = path;
  return parsed.toString();
}

function withParams(url: string, params: Record<string, string>): string {
  const parsed = new URL(url);
  for (const [name, value] of Object.entries(params)) parsed.searchParams.set(name, value);
  return parsed.toString();
}
