/**
 * `@tasklock/core/postgres`: the PostgreSQL store's own API, for its tests, the bench and tools.
 * Applications use `Queue.open('postgres://…')` from `@tasklock/core` instead.
 */
export { PG_MIGRATIONS, PG_SCHEMA_VERSION, type PgMigration } from './schema.js';
export { migrate, MIGRATION_LOCK_KEY, type MigrationOutcome } from './migrate.js';
export { pgPool, redacted } from './connect.js';
export { PG_HOT_PATH_SQL } from './sql/hot-path.js';
