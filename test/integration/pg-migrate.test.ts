// The PostgreSQL store's migrations: under pg_advisory_xact_lock in one transaction, so that
// processes racing on an empty database migrate it exactly once; a newer schema, or a `tasklock`
// schema tasklock did not make, is refused and left as it was.
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, pgPool, PG_MIGRATIONS, PG_SCHEMA_VERSION } from '@tasklock/core/postgres';
import type { PoolClient, QueryResultRow } from 'pg';
import { pg } from '../utils/core-deps.js';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';

afterEach(async () => {
  await killAllFixtures();
  await dropPgDatabases();
});

async function query<T extends QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** One connection of the store's own kind (pgPool: integers as numbers), as the store's open migrates on. */
async function withMigrationClient(url: string, fn: (client: PoolClient) => Promise<void>): Promise<void> {
  const pool = pgPool(url, 1);
  try {
    const client = await pool.connect();
    try {
      await fn(client);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

describe('PostgreSQL migrations', () => {
  it('8 processes migrating an empty database at the same moment: exactly one migrates, none fails', async () => {
    const url = await makePgDatabase();
    const openers = Array.from({ length: 8 }, () => startFixture('open-pg.mjs', [url, '--wait-go']));
    // Each child has connected before "ready": the race is the migration alone.
    await Promise.all(openers.map((child) => child.waitForLine('ready')));
    for (const child of openers) child.send('go');
    const exits = await Promise.all(openers.map((child) => child.succeeded()));
    const outcomes = exits.map((exit) => {
      const opened = exit.lines.at(-1)!.match(/^opened (.*)$/);
      expect(opened, exit.lines.join('\n')).not.toBeNull();
      return JSON.parse(opened![1]!) as { applied: number[]; schemaVersion: number };
    });
    expect(outcomes.filter((o) => o.applied.length > 0).map((o) => o.applied)).toEqual([PG_MIGRATIONS.map((m) => m.version)]);
    expect(outcomes.every((o) => o.schemaVersion === PG_SCHEMA_VERSION)).toBe(true);
    expect(await query(url, "SELECT value FROM tasklock.meta WHERE key = 'schema_version'")).toEqual([{ value: String(PG_SCHEMA_VERSION) }]);
    const tables = await query<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'tasklock' ORDER BY 1");
    expect(tables.map((t) => t.tablename)).toEqual(['awaited', 'finish_counts', 'meta', 'task_counters', 'task_events', 'task_runs', 'tasks', 'workers']);
  });

  it('refuses a database whose schema is newer, and changes nothing in it', async () => {
    const url = await makePgDatabase();
    await withMigrationClient(url, async (client) => {
      await migrate(client, url);
      await client.query("UPDATE tasklock.meta SET value = '99' WHERE key = 'schema_version'");
      await expect(migrate(client, url)).rejects.toMatchObject({ code: 'schema-too-new', message: expect.stringContaining(`schema version 99, newer than this tasklock knows (${PG_SCHEMA_VERSION})`) });
      expect((await client.query("SELECT value FROM tasklock.meta WHERE key = 'schema_version'")).rows).toEqual([{ value: '99' }]);
    });
  });

  it("refuses a `tasklock` schema that tasklock did not make (another application's), and touches none of it", async () => {
    const url = await makePgDatabase();
    await query(url, 'CREATE SCHEMA tasklock; CREATE TABLE tasklock.tasks (theirs int)');
    await withMigrationClient(url, async (client) => {
      await expect(migrate(client, url)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringContaining('was not made by tasklock') });
    });
    expect(await query(url, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'tasklock' AND table_name = 'tasks'")).toEqual([{ column_name: 'theirs' }]);
  });

  it('leaves an application\'s own tables, of any name, alone: tasklock lives in its schema', async () => {
    const url = await makePgDatabase();
    await query(url, 'CREATE TABLE public.tasks (theirs int); INSERT INTO public.tasks VALUES (7)');
    await withMigrationClient(url, async (client) => {
      expect(await migrate(client, url)).toEqual({ schemaVersion: PG_SCHEMA_VERSION, applied: PG_MIGRATIONS.map((m) => m.version) });
      expect(await migrate(client, url)).toEqual({ schemaVersion: PG_SCHEMA_VERSION, applied: [] });
    });
    expect(await query(url, 'SELECT theirs FROM public.tasks')).toEqual([{ theirs: 7 }]);
  });

  it('version 2 on a version 1 database: finish counts keep their totals, keyed by writer (0 for those already there)', async () => {
    const url = await makePgDatabase();
    await withMigrationClient(url, async (client) => {
      await client.query('BEGIN');
      await client.query(PG_MIGRATIONS.find((m) => m.version === 1)!.sql);
      await client.query("INSERT INTO tasklock.meta (key, value) VALUES ('schema_version', '1')");
      await client.query("INSERT INTO tasklock.finish_counts (second, type, outcome, count) VALUES (100, 'job', 'succeeded', 5), (100, 'job', 'failed', 2)");
      await client.query('COMMIT');
      expect(await migrate(client, url)).toEqual({ schemaVersion: PG_SCHEMA_VERSION, applied: PG_MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version) });
      expect((await client.query('SELECT second, type, outcome, writer, count FROM tasklock.finish_counts ORDER BY outcome')).rows).toEqual([
        { second: 100, type: 'job', outcome: 'failed', writer: 0, count: 2 },
        { second: 100, type: 'job', outcome: 'succeeded', writer: 0, count: 5 },
      ]);
      const key = await client.query<{ column: string }>(
        `SELECT a.attname AS column FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = 'tasklock.finish_counts'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
      );
      expect(key.rows.map((r) => r.column)).toEqual(['second', 'type', 'outcome', 'writer']);
    });
  });

  it('version 4 on a version 3 database: tasks are kept, with no trace context (the tracing test covers what enqueue stores)', async () => {
    const url = await makePgDatabase();
    await withMigrationClient(url, async (client) => {
      await client.query('BEGIN');
      for (const migration of PG_MIGRATIONS.filter((m) => m.version <= 3)) await client.query(migration.sql);
      await client.query("INSERT INTO tasklock.meta (key, value) VALUES ('schema_version', '3')");
      await client.query(
        `INSERT INTO tasklock.tasks (type, status, payload, max_attempts, backoff, run_at, created_at, updated_at)
         VALUES ('mail', 'pending', '{}', 3, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0)`,
      );
      await client.query('COMMIT');
      expect(await migrate(client, url)).toEqual({ schemaVersion: PG_SCHEMA_VERSION, applied: PG_MIGRATIONS.filter((m) => m.version > 3).map((m) => m.version) });
      expect((await client.query('SELECT type, trace_context FROM tasklock.tasks')).rows).toEqual([{ type: 'mail', trace_context: null }]);
    });
  });

  it('versions 4 to 6 on a version 3 database with tasks in it: their events get xid 0 (migration 6) (before every later one), new writes their own xid', async () => {
    const url = await makePgDatabase();
    await withMigrationClient(url, async (client) => {
      await client.query('BEGIN');
      for (const m of PG_MIGRATIONS.filter((m) => m.version <= 3)) await client.query(m.sql);
      await client.query("INSERT INTO tasklock.meta (key, value) VALUES ('schema_version', '3')");
      await client.query(`INSERT INTO tasklock.tasks (id, type, status, payload, attempts, max_attempts, backoff, run_at, created_at, updated_at, finished_at)
                          VALUES (1, 'job', 'succeeded', 'null', 1, 3, '{}', 5, 5, 9, 9)`);
      await client.query("SELECT setval(pg_get_serial_sequence('tasklock.tasks', 'id'), 1)");
      await client.query("INSERT INTO tasklock.task_runs (task_id, attempt, worker_id, lease_token, started_at, finished_at, outcome) VALUES (1, 1, 'w', 't', 6, 9, 'succeeded')");
      await client.query('COMMIT');
      expect(await migrate(client, url)).toEqual({ schemaVersion: PG_SCHEMA_VERSION, applied: PG_MIGRATIONS.filter((m) => m.version > 3).map((m) => m.version) });
      await client.query("INSERT INTO tasklock.tasks (type, status, payload, max_attempts, backoff, run_at, created_at, updated_at) VALUES ('job', 'pending', 'null', 3, '{}', 10, 10, 10)");
      const log = await client.query<{ task_id: number; transition: string; xid: string }>(
        'SELECT task_id, transition, xid::text AS xid FROM tasklock.task_event_log ORDER BY xid, task_id, attempt, rank',
      );
      expect(log.rows.slice(0, 3)).toEqual([
        { task_id: 1, transition: 'enqueue', xid: '0' },
        { task_id: 1, transition: 'claim', xid: '0' },
        { task_id: 1, transition: 'complete', xid: '0' },
      ]);
      expect(log.rows[3]).toMatchObject({ task_id: 2, transition: 'enqueue' });
      expect(BigInt(log.rows[3]!.xid)).toBeGreaterThan(0n);
    });
  });
});
