/**
 * What SQLite's error codes mean to tasklock. better-sqlite3 raises SqliteError with `code` set
 * to the extended result code name (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE…); the store keeps
 * that error as the `cause` of the TasklockError it raises.
 */

export function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

function hasPrefix(code: string | undefined, prefixes: readonly string[]): boolean {
  return code !== undefined && prefixes.some((prefix) => code === prefix || code.startsWith(`${prefix}_`));
}

/** Another connection holds SQLite's own lock: only connections from outside tasklock's write lock cause it. */
export function isBusy(error: unknown): boolean {
  return hasPrefix(sqliteCodeOf(error), ['SQLITE_BUSY', 'SQLITE_LOCKED']);
}

/** A full or failing disk, or a busy database: the same write may succeed later. */
export function isTransientSqlite(error: unknown): boolean {
  return hasPrefix(sqliteCodeOf(error), ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL']);
}
