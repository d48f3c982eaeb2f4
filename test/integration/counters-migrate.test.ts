// ctx.count's table on a store made before it existed: SQLite migration 9 and PostgreSQL
// migration 5 add task_counters to a database holding tasks, which then take counts; purging a
// task deletes its counters with it.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { MIGRATIONS } from '@tasklock/core/sqlite';
import { pgPool, PG_MIGRATIONS } from '@tasklock/core/postgres';
import { Database } from '../utils/core-deps.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  removeTempDirs();
  await dropPgDatabases();
});

/** A task enqueued before the migration takes counts after it, and a purge takes them away. */
async function countsAfterMigration(queue: Queue, id: number): Promise<void> {
  try {
    expect((await queue.get(id)).counters).toEqual({});
    const [held] = await queue.claim({ workerId: 'w', limit: 1, leaseMs: 60_000 });
    expect(held!.id).toBe(id);
    await queue.heartbeat(held!, { leaseMs: 60_000, counts: { tokens: 5 } });
    await queue.complete(held!, null);
    expect((await queue.get(id)).counters).toEqual({ tokens: 5 });
    expect((await queue.stats()).countersByType).toEqual({ old: { tokens: 5 } });
    expect(await queue.purge({ olderThanMs: 0 })).toBe(1);
    expect((await queue.stats()).countersByType).toEqual({});
  } finally {
    queue.close();
  }
}

describe('task_counters migration', () => {
  it('sqlite: version 8 with a task → 9', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const raw = new Database(dbPath);
    raw.pragma('journal_mode = WAL');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 8)) raw.exec(migration.sql);
    raw.pragma('user_version = 8');
    raw.exec(`INSERT INTO tasks (id, type, status, payload, attempts, max_attempts, backoff, run_at, created_at, updated_at)
              VALUES (1, 'old', 'pending', '{}', 0, 3, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0)`);
    raw.close();
    const queue = await Queue.open(dbPath);
    expect(queue.describe()).toMatchObject({ schemaVersion: MIGRATIONS.at(-1)!.version, appliedMigrations: MIGRATIONS.filter((m) => m.version > 8).map((m) => m.version) });
    await countsAfterMigration(queue, 1);
  });

  it('postgres: version 4 with a task → 5', async () => {
    const url = await makePgDatabase();
    const pool = pgPool(url, 1);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const migration of PG_MIGRATIONS.filter((m) => m.version <= 4)) await client.query(migration.sql);
        await client.query("INSERT INTO tasklock.meta (key, value) VALUES ('schema_version', '4')");
        await client.query(`INSERT INTO tasklock.tasks (type, status, payload, attempts, max_attempts, backoff, run_at, created_at, updated_at)
                            VALUES ('old', 'pending', '{}', 0, 3, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0)`);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
    const queue = await Queue.open(url);
    expect(queue.describe()).toMatchObject({ schemaVersion: PG_MIGRATIONS.at(-1)!.version, appliedMigrations: PG_MIGRATIONS.filter((m) => m.version > 4).map((m) => m.version) });
    await countsAfterMigration(queue, 1);
  });
});
