/**
 * The SQLite store's own checks, as `tasklock doctor` prints them: the write lock (one empty write
 * transaction), integrity_check, foreign_key_check, the schema version, lock artefacts of the
 * other strategy, the WAL's size and the files' modes. Reads and stat() only, apart from that one
 * write: nothing here opens the database files with fs (closing a descriptor on them would drop
 * this process's SQLite locks).
 */
import { lstatSync, statSync } from 'node:fs';
import type { DiagnosisCheck } from '../store.js';
import type { TasklockDatabase } from './database.js';
import { SCHEMA_VERSION } from './db/migrate.js';
import { formatFileMode } from './file-mode.js';

const MiB = 1024 * 1024;
/** The WAL is checkpointed every ~4 MiB; far beyond that, something keeps checkpoints from finishing. */
const WAL_WARN_BYTES = 256 * MiB;
/** A lock artefact of the other strategy untouched this long belongs to no live writer. */
const STALE_ARTEFACT_MS = 30_000;

/** `pathAsGiven`: the database path as the user wrote it, for commands they can paste. */
export async function diagnoseSqlite(db: TasklockDatabase, pathAsGiven: string): Promise<DiagnosisCheck[]> {
  // The write goes first: it also proves the lock works before we read anything.
  return [await lockCheck(db), integrityCheck(db), foreignKeyCheck(db), schemaCheck(db), lockArtefactCheck(db), walCheck(db), fileModeCheck(db, pathAsGiven)];
}

function integrityCheck(db: TasklockDatabase): DiagnosisCheck {
  const rows = db.connection.pragma('integrity_check') as { integrity_check: string }[];
  const messages = rows.map((row) => row.integrity_check);
  if (messages.length === 1 && messages[0] === 'ok') return { name: 'integrity', ok: true, detail: 'integrity_check: ok' };
  return {
    name: 'integrity',
    ok: false,
    detail: `integrity_check: ${messages.slice(0, 3).join('; ')}${messages.length > 3 ? ` (+${messages.length - 3} more)` : ''} — stop all processes and restore from a backup (or salvage with sqlite3 .recover)`,
  };
}

function foreignKeyCheck(db: TasklockDatabase): DiagnosisCheck {
  const rows = db.connection.pragma('foreign_key_check') as { table: string }[];
  if (rows.length === 0) return { name: 'foreign-keys', ok: true, detail: 'foreign_key_check: no violations' };
  const tables = [...new Set(rows.map((row) => row.table))].join(', ');
  return { name: 'foreign-keys', ok: false, detail: `foreign_key_check: ${rows.length} orphaned row(s) in ${tables} — restore from a backup` };
}

function schemaCheck(db: TasklockDatabase): DiagnosisCheck {
  const found = db.connection.pragma('user_version', { simple: true }) as number;
  return found === SCHEMA_VERSION
    ? { name: 'schema', ok: true, detail: `schema version ${found} (current)` }
    : { name: 'schema', ok: false, detail: `schema version ${found}, this tasklock expects ${SCHEMA_VERSION} — run tasklock init` };
}

async function lockCheck(db: TasklockDatabase): Promise<DiagnosisCheck> {
  const where = `${db.lockStrategy} on ${db.lock.path}`;
  const fallback = db.lock.fallbackReasons.length > 0 ? ` (fell back: ${db.lock.fallbackReasons.join('; ')})` : '';
  const started = performance.now();
  try {
    await db.write(() => undefined, { label: 'doctor' });
  } catch (error) {
    return { name: 'lock', ok: false, detail: `${where}: a write failed: ${(error as Error).message}` };
  }
  const took = performance.now() - started;
  const warning = db.lockStrategy === 'none' ? ' — strategy none: writers rely on SQLite busy_timeout alone' : '';
  return { name: 'lock', ok: true, detail: `${where}: an empty write transaction took ${took.toFixed(1)} ms, lock wait included${fallback}${warning}` };
}

/** A lock directory (lockfile) under an os-lock database, or a lock file under a lockfile one. */
function lockArtefactCheck(db: TasklockDatabase): DiagnosisCheck {
  const { path } = db.lock;
  const strategy = db.lockStrategy;
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return { name: 'lock-files', ok: true, detail: `no ${path}` };
  }
  const age = Date.now() - stat.mtimeMs;
  if (strategy === 'os' && stat.isDirectory() && age > STALE_ARTEFACT_MS) {
    return { name: 'lock-files', ok: false, detail: `${path} is a lockfile-strategy lock directory untouched for ${Math.round(age / 1000)}s, but the database uses the os strategy — make sure no process runs with --lock lockfile, then remove it (rmdir ${path})` };
  }
  if (strategy === 'lockfile' && stat.isFile()) {
    return { name: 'lock-files', ok: false, detail: `${path} is an os-strategy lock file, but the database uses lockfile — make sure no process runs with --lock os, then remove it (rm ${path})` };
  }
  if (strategy === 'lockfile' && stat.isDirectory() && age > STALE_ARTEFACT_MS) {
    return { name: 'lock-files', ok: false, detail: `${path} is held but untouched for ${Math.round(age / 1000)}s: its holder is probably dead — writers take it over once stale; remove it if it stays` };
  }
  return { name: 'lock-files', ok: true, detail: `${path} (${stat.isDirectory() ? 'directory' : 'file'}) matches strategy ${strategy}` };
}

function walCheck(db: TasklockDatabase): DiagnosisCheck {
  const conn = db.connection;
  const dbBytes = (conn.pragma('page_count', { simple: true }) as number) * (conn.pragma('page_size', { simple: true }) as number);
  let walBytes = 0;
  try {
    // statSync does not open the file (closing a descriptor on it would drop SQLite's locks).
    walBytes = statSync(`${db.path}-wal`).size;
  } catch {
    walBytes = 0;
  }
  const sizes = `WAL ${(walBytes / MiB).toFixed(1)} MiB, database ${(dbBytes / MiB).toFixed(1)} MiB`;
  return walBytes > WAL_WARN_BYTES
    ? { name: 'wal', ok: false, detail: `${sizes} — checkpoints are not keeping up: a long-lived read transaction (another process) may be holding them back` }
    : { name: 'wal', ok: true, detail: sizes };
}

/**
 * Database, WAL, shared-memory and lock files that other users can read or write: payloads often
 * hold secrets. A warning, not a failure: the queue works, and a wide mode may be deliberate
 * (--file-mode 0666); databases created before tasklock made them 0600 are usually 0644.
 */
function fileModeCheck(db: TasklockDatabase, dbAsGiven: string): DiagnosisCheck {
  const found: { path: string; shown: string; mode: number }[] = [];
  // The lock is `<db>.lock` (WriteLock.open).
  for (const suffix of ['', '-wal', '-shm', '.lock']) {
    const path = `${db.path}${suffix}`;
    let stat;
    try {
      // statSync does not open the file (closing a descriptor on it would drop SQLite's locks).
      stat = statSync(path);
    } catch {
      continue;
    }
    // The lockfile strategy's lock is a directory, present only while held, and holds nothing.
    if (stat.isFile()) found.push({ path, shown: `${dbAsGiven}${suffix}`, mode: stat.mode & 0o777 });
  }
  const files = found.map(({ path, mode }) => ({ path, mode: formatFileMode(mode) }));
  const exposed = found.filter(({ mode }) => (mode & 0o006) !== 0);
  if (exposed.length === 0) {
    return { name: 'file-modes', ok: true, detail: found.map(({ shown, mode }) => `${shown} ${formatFileMode(mode)}`).join(', '), files };
  }
  const readable = exposed.some(({ mode }) => (mode & 0o004) !== 0);
  const writable = exposed.some(({ mode }) => (mode & 0o002) !== 0);
  const what = readable && writable ? 'readable and writable' : readable ? 'readable' : 'writable';
  const names = exposed.map(({ shown }) => shown);
  const modes = [...new Set(exposed.map(({ mode }) => formatFileMode(mode)))].join(', ');
  // Keep the group's access where the group can already write: a queue shared on purpose.
  const target = exposed.every(({ mode }) => (mode & 0o060) === 0o060) ? '660' : '600';
  const chmod = `chmod ${target} ${found.map(({ shown }) => shellWord(shown)).join(' ')}`;
  const subject = names.length === 1 ? `${names[0]} is` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are`;
  return { name: 'file-modes', ok: true, warning: true, detail: `${subject} ${what} by others (mode ${modes}): ${chmod}`, files };
}

function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
