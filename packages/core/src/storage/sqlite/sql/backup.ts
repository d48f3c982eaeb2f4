/**
 * backup: writes a consistent copy of the whole database into another file; changes nothing in
 * the database itself and takes no write lock.
 * VACUUM INTO runs in one read transaction, so the copy is exactly the database as of one commit
 * (in WAL mode writers go on meanwhile), rebuilt compact, without free pages, and in rollback-
 * journal mode: one self-contained file with no -wal beside it.
 * Preconditions: `file` does not exist or is empty (else SQLITE_ERROR "output file already
 * exists"), and the connection is not inside a transaction. SQLite does not fsync `file`: the
 * caller must before relying on it.
 */
import type Database from 'better-sqlite3';

export function vacuumInto(db: Database.Database, file: string): void {
  db.prepare<[string]>('VACUUM INTO ?').run(file);
}
