/**
 * A fresh database per test on the run's PostgreSQL server (see test/setup/pg-global-setup.ts),
 * dropped by dropPgDatabases(). Made from template0, so nothing of another test can be in it.
 */
import { pg } from './core-deps.js';
import { inject } from 'vitest';

const made: string[] = [];
let counter = 0;

/** The server's own URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function makePgDatabase(): Promise<string> {
  const server = inject('pgUrl');
  const name = `tasklock_test_${process.pid}_${(counter += 1)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  made.push(name);
  return withDatabase(server, name);
}

export async function dropPgDatabases(): Promise<void> {
  const names = made.splice(0);
  if (names.length === 0) return;
  const admin = new pg.Client({ connectionString: inject('pgUrl') });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
