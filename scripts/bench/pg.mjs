// The bench's PostgreSQL: one private server (the stress package's pg-server, as the tests use) with
// durable settings, shared by every system measured on it, and a fresh database per run. The
// `pg` driver is the store's own copy (resolved from @tasklock/core, as sqlite.mjs does for
// better-sqlite3); pg-boss and graphile-worker resolve the same pg 8.16.3.
import { startPgServer } from '../../packages/stress/dist/pg-server.js';
import { requireFromCore } from './sqlite.mjs';

/** @type {typeof import('pg')} */
export const pg = requireFromCore('pg');

/**
 * fsync, synchronous_commit and full_page_writes stay at their defaults (on): every commit is on
 * disk before it is acknowledged, as SQLite's synchronous=FULL. Larger buffers and WAL keep a
 * checkpoint out of the short runs; connections enough for every pool of one system's processes.
 */
export const BENCH_PG_SETTINGS = { max_connections: 300, shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' };

/** Starts the server; `version` is its server_version. */
export async function startBenchPg() {
  const server = startPgServer({ settings: BENCH_PG_SETTINGS });
  try {
    const version = await query(server.url, 'SHOW server_version').then((rows) => rows[0].server_version);
    return { ...server, version, settings: BENCH_PG_SETTINGS };
  } catch (error) {
    server.stop();
    throw error;
  }
}

/** Runs one statement on its own connection; its rows. */
export async function query(url, text, values = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A new empty database on the server (from template0); its URL. */
export async function createDatabase(serverUrl, name) {
  await query(serverUrl, `CREATE DATABASE ${name} TEMPLATE template0`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl, name) {
  await query(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
