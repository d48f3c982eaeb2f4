/**
 * The commit order of SQLite writes, for the event stream's cursor (schema 8). Writes are
 * serialised by SQLite's write lock, so a counter bumped once at the start of each write
 * transaction (write_seq, one row) numbers the transactions in commit order; the rows a
 * transaction writes that are events (tasks.created_seq, task_runs.started_seq/finished_seq,
 * task_events.seq) are stamped with its number by calling tasklock_write_seq() in the same
 * statements. A transaction that rolls back takes its number with it (the bump is rolled back too).
 *
 * tasklock_write_seq() outside a write transaction throws: a row stamped with an old number
 * could appear behind a reader's cursor and never be delivered.
 */
import type Database from 'better-sqlite3';

const connections = new WeakMap<Database.Database, WriteSeq>();

class WriteSeq {
  private bump: Database.Statement<[], { seq: number }> | null = null;
  current: number | null = null;

  constructor(private readonly db: Database.Database) {}

  begin(): void {
    this.bump ??= this.prepare();
    // Before migration 8 there is no counter (the migrating transaction itself): nothing is stamped then.
    this.current = this.bump === null ? null : this.bump.get()!.seq;
  }

  private prepare(): Database.Statement<[], { seq: number }> | null {
    try {
      return this.db.prepare<[], { seq: number }>('UPDATE write_seq SET seq = seq + 1 RETURNING seq');
    } catch (error) {
      if (error instanceof Error && /no such table/.test(error.message)) return null;
      throw error;
    }
  }
}

/** Gives the connection tasklock_write_seq(); called once per connection, before any write. */
export function registerWriteSeq(db: Database.Database): void {
  const state = new WriteSeq(db);
  connections.set(db, state);
  db.function('tasklock_write_seq', { deterministic: false, varargs: false }, () => {
    if (state.current === null) throw new Error('tasklock_write_seq() outside a write transaction');
    return state.current;
  });
}

/** Numbers the write transaction just begun on `db` (inside BEGIN IMMEDIATE). */
export function beginWriteSeq(db: Database.Database): void {
  connections.get(db)?.begin();
}

/** The transaction ended (committed or rolled back). */
export function endWriteSeq(db: Database.Database): void {
  const state = connections.get(db);
  if (state) state.current = null;
}
