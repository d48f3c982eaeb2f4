import type { Command } from 'commander';
import { lstatSync, statSync } from 'node:fs';
import { formatFileMode, SCHEMA_VERSION, type Queue } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { formatDuration } from '../duration.js';
import { printJson, printLine } from '../output.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Worth acting on, but not wrong in itself: printed as `warn`, and the exit code stays 0. */
  warning?: boolean;
  detail: string;
  /** file-modes: each file checked, with its mode as chmod writes it ("0600"). */
  files?: { path: string; mode: string }[];
}

const MiB = 1024 * 1024;
/** The WAL is checkpointed every ~4 MiB; far beyond that, something keeps checkpoints from finishing. */
const WAL_WARN_BYTES = 256 * MiB;
/** A lock artefact of the other strategy untouched this long belongs to no live writer. */
const STALE_ARTEFACT_MS = 30_000;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the database and its surroundings; exit 1 (saying what to do) when something is wrong')
    .action(async (_flags: object, command: Command) => {
      const globals = globalOptions(command);
      const checks = await withQueue(globals, (queue) => runChecks(queue, globals.db));
      const ok = checks.every((check) => check.ok);
      if (globals.json) printJson({ ok, checks });
      else for (const check of checks) printLine(`${label(check)}  ${check.name.padEnd(12)} ${check.detail}`);
      if (!ok) {
        const failed = checks.filter((check) => !check.ok).map((check) => check.name);
        throw new Error(`doctor: ${failed.length} check(s) failed: ${failed.join(', ')}`);
      }
    });
}

function label(check: Check): string {
  if (!check.ok) return 'FAIL';
  return check.warning ? 'warn' : 'ok  ';
}

/** `dbAsGiven`: the --db path as the user wrote it, for commands they can paste. */
async function runChecks(queue: Queue, dbAsGiven: string): Promise<Check[]> {
  // The write goes first: it also proves the lock works before we read anything.
  return [await lockCheck(queue), integrityCheck(queue), foreignKeyCheck(queue), schemaCheck(queue), lockArtefactCheck(queue), walCheck(queue), fileModeCheck(queue, dbAsGiven), ...taskChecks(queue)];
}

function integrityCheck(queue: Queue): Check {
  const rows = queue.db.connection.pragma('integrity_check') as { integrity_check: string }[];
  const messages = rows.map((row) => row.integrity_check);
  if (messages.length === 1 && messages[0] === 'ok') return { name: 'integrity', ok: true, detail: 'integrity_check: ok' };
  return {
    name: 'integrity',
    ok: false,
    detail: `integrity_check: ${messages.slice(0, 3).join('; ')}${messages.length > 3 ? ` (+${messages.length - 3} more)` : ''} — stop all processes and restore from a backup (or salvage with sqlite3 .recover)`,
  };
}

function foreignKeyCheck(queue: Queue): Check {
  const rows = queue.db.connection.pragma('foreign_key_check') as { table: string }[];
  if (rows.length === 0) return { name: 'foreign-keys', ok: true, detail: 'foreign_key_check: no violations' };
  const tables = [...new Set(rows.map((row) => row.table))].join(', ');
  return { name: 'foreign-keys', ok: false, detail: `foreign_key_check: ${rows.length} orphaned row(s) in ${tables} — restore from a backup` };
}

function schemaCheck(queue: Queue): Check {
  const found = queue.db.connection.pragma('user_version', { simple: true }) as number;
  return found === SCHEMA_VERSION
    ? { name: 'schema', ok: true, detail: `schema version ${found} (current)` }
    : { name: 'schema', ok: false, detail: `schema version ${found}, this tasklock expects ${SCHEMA_VERSION} — run tasklock init` };
}

async function lockCheck(queue: Queue): Promise<Check> {
  const { db } = queue;
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

/** A lock directory (lockfile) under a flock database, or a lock file under a lockfile one. */
function lockArtefactCheck(queue: Queue): Check {
  const { path } = queue.db.lock;
  const strategy = queue.db.lockStrategy;
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return { name: 'lock-files', ok: true, detail: `no ${path}` };
  }
  const age = Date.now() - stat.mtimeMs;
  if (strategy === 'flock' && stat.isDirectory() && age > STALE_ARTEFACT_MS) {
    return { name: 'lock-files', ok: false, detail: `${path} is a lockfile-strategy lock directory untouched for ${formatDuration(age)}, but the database uses flock — make sure no process runs with --lock lockfile, then remove it (rmdir ${path})` };
  }
  if (strategy === 'lockfile' && stat.isFile()) {
    return { name: 'lock-files', ok: false, detail: `${path} is a flock lock file, but the database uses lockfile — make sure no process runs with --lock flock, then remove it (rm ${path})` };
  }
  if (strategy === 'lockfile' && stat.isDirectory() && age > STALE_ARTEFACT_MS) {
    return { name: 'lock-files', ok: false, detail: `${path} is held but untouched for ${formatDuration(age)}: its holder is probably dead — writers take it over once stale; remove it if it stays` };
  }
  return { name: 'lock-files', ok: true, detail: `${path} (${stat.isDirectory() ? 'directory' : 'file'}) matches strategy ${strategy}` };
}

function walCheck(queue: Queue): Check {
  const conn = queue.db.connection;
  const dbBytes = (conn.pragma('page_count', { simple: true }) as number) * (conn.pragma('page_size', { simple: true }) as number);
  let walBytes = 0;
  try {
    // statSync does not open the file (closing a descriptor on it would drop SQLite's locks).
    walBytes = statSync(`${queue.db.path}-wal`).size;
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
function fileModeCheck(queue: Queue, dbAsGiven: string): Check {
  const found: { path: string; shown: string; mode: number }[] = [];
  // The lock is `<db>.lock` (WriteLock.open).
  for (const suffix of ['', '-wal', '-shm', '.lock']) {
    const path = `${queue.db.path}${suffix}`;
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

function taskChecks(queue: Queue): Check[] {
  const stats = queue.stats();
  const workers = queue.workers();
  // Stopped gracefully or already found crashed by a sweep: ended, nothing left to recover.
  const running = workers.filter((w) => w.stopped_at === null && w.crashed_at === null);
  const dead = running.filter((w) => w.alive === false);
  const live = running.filter((w) => w.alive !== false);
  return [
    stats.overdueLeases === 0
      ? { name: 'leases', ok: true, detail: `no running task is past its lease (${stats.counts.running} running)` }
      : { name: 'leases', ok: false, detail: `${stats.overdueLeases} running task(s) past their lease — run tasklock recover (or start a worker: workers reclaim them)` },
    dead.length === 0
      ? { name: 'workers', ok: true, detail: `${live.length} live, ${workers.length - live.length} stopped or crashed and recovered` }
      : { name: 'workers', ok: false, detail: `${dead.length} dead worker(s) not yet recovered (${dead.map((w) => w.id).join(', ')}) — run tasklock recover` },
  ];
}
