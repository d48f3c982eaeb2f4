import type Database from 'better-sqlite3';
import { sql as init } from './migrations/0001-init.js';
import { sql as attemptProcesses } from './migrations/0002-attempt-processes.js';
import { sql as oneNameForReclaim } from './migrations/0003-one-name-for-reclaim.js';
import { sql as claimsFromRuns } from './migrations/0004-claims-from-runs.js';
import { sql as runsKeyedByAttempt } from './migrations/0005-runs-keyed-by-attempt.js';
import { sql as eventsFromRows } from './migrations/0006-events-from-rows.js';
import { sql as workerDeadAfter } from './migrations/0007-worker-dead-after.js';
import { sql as traceContext } from './migrations/0008-trace-context.js';
import { sql as taskCounters } from './migrations/0009-task-counters.js';
import { sql as eventSeq } from './migrations/0010-event-seq.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Ordered; a migration's number is the `user_version` it leaves behind. Never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'attempt-processes', sql: attemptProcesses },
  { version: 3, name: 'one-name-for-reclaim', sql: oneNameForReclaim },
  { version: 4, name: 'claims-from-runs', sql: claimsFromRuns },
  { version: 5, name: 'runs-keyed-by-attempt', sql: runsKeyedByAttempt },
  { version: 6, name: 'events-from-rows', sql: eventsFromRows },
  { version: 7, name: 'worker-dead-after', sql: workerDeadAfter },
  { version: 8, name: 'trace-context', sql: traceContext },
  { version: 9, name: 'task-counters', sql: taskCounters },
  { version: 10, name: 'event-seq', sql: eventSeq },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the migrations the database lacks. Runs inside the caller's write transaction, i.e.
 * under the same `.lock` and the same BEGIN IMMEDIATE as every other write: when several
 * processes open a fresh file at once, the first to get the lock migrates and the others read
 * the version it committed here and find nothing left to do. user_version lives in the page-1
 * header and changes inside the transaction, so no process ever sees a half-made schema.
 * Returns the versions applied.
 */
export function applyMigrations(db: Database.Database): number[] {
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    // Re-read inside the transaction: a concurrent opener may have migrated since we looked.
    if (schemaVersionOf(db) >= migration.version) continue;
    db.exec(migration.sql);
    db.pragma(`user_version = ${migration.version}`);
    applied.push(migration.version);
  }
  return applied;
}
