/**
 * Migrating a PostgreSQL database: under `pg_advisory_xact_lock` (the PostgreSQL form of the
 * SQLite store's `.lock` file), inside one transaction, so that many processes starting on an
 * empty database migrate it exactly once and none ever sees half a schema: the first takes the
 * lock and migrates, the others wait for its COMMIT, then read the version it left and find
 * nothing to do. A database whose schema is newer than this code is refused, as is one whose
 * `tasklock` schema was not made by tasklock.
 */
import type pg from 'pg';
import { BadInputError, SchemaTooNewError } from '../../errors.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './schema.js';

/** The advisory lock's key: "tasklock" in ASCII, so that it names itself in pg_locks. */
export const MIGRATION_LOCK_KEY = 0x7461736b6c6f636bn;

export interface MigrationOutcome {
  schemaVersion: number;
  /** Versions this call applied (empty: the database was up to date). */
  applied: number[];
}

export async function migrate(client: pg.ClientBase, location: string): Promise<MigrationOutcome> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const current = await schemaVersionOf(client, location);
    if (current > PG_SCHEMA_VERSION) throw new SchemaTooNewError(location, current, PG_SCHEMA_VERSION);
    const applied: number[] = [];
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query(
        "INSERT INTO tasklock.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [String(migration.version)],
      );
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return { schemaVersion: Math.max(current, PG_SCHEMA_VERSION), applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** 0 for a database without tasklock's schema; refuses a `tasklock` schema that is not ours. */
async function schemaVersionOf(client: pg.ClientBase, location: string): Promise<number> {
  const { rows } = await client.query<{ schema: boolean; meta: boolean }>(
    "SELECT to_regnamespace('tasklock') IS NOT NULL AS schema, to_regclass('tasklock.meta') IS NOT NULL AS meta",
  );
  if (!rows[0]!.schema) return 0;
  if (!rows[0]!.meta) {
    throw new BadInputError(`${location}: its schema "tasklock" was not made by tasklock (no tasklock.meta); use another database`);
  }
  const version = await client.query<{ value: string }>("SELECT value FROM tasklock.meta WHERE key = 'schema_version'");
  const value = Number(version.rows[0]?.value);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BadInputError(`${location}: tasklock.meta has no valid schema_version; not a tasklock database`);
  }
  return value;
}
