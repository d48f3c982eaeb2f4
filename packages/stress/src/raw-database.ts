import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

// The very better-sqlite3 that @tasklock/core loads: one SQLite library per process.
const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@tasklock/core'));
const Database = requireFromCore('better-sqlite3') as typeof BetterSqlite3;

/** A plain connection, outside tasklock: for the checker (read-only) and the busy fault. */
export function openRaw(path: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  return new Database(path, options);
}
