// The ceiling: tasklock's own claim + complete SQL run back to back by one process on raw
// better-sqlite3, with no write lock, no queue and no worker logic. The database is created by
// openDatabase() (identical schema) and filled with enqueueMany(); then one connection opened
// here drains it, K tasks per claim transaction and the same K per complete transaction.
//   full     claim UPDATE + the batch's task_runs insert (the claim events are derived from
//            the runs, schema 4); the batch's complete UPDATE + runs close + finish count (the
//            complete events are derived from the runs too, schema 6)
//   bare     claim UPDATE; complete UPDATE
//   minimal  the same two UPDATEs' shape on a 3-column table with one partial index: what
//            SQLite does for a claim + complete with no queue schema at all (the issue's
//            "raw better-sqlite3" figures were of this kind), so the table shows what the
//            tasks table's width and indexes cost before tasklock adds anything
import { randomBytes } from 'node:crypto';
import { Queue } from '@tasklock/core';
import { beginWriteSeq, openDatabase, registerWriteSeq, SqliteStore } from '@tasklock/core/sqlite';
import { SQL } from '../ceiling-sql.mjs';
import { Database } from '../sqlite.mjs';
import { config, exit, send } from './protocol.mjs';

const { db: path, n, k, variant, synchronous } = config;

const minimal = variant === 'minimal';
if (!minimal) {
  const tasklockDb = await openDatabase(path, { lock: 'none', lockRequired: true, synchronous });
  const queue = new Queue(new SqliteStore(tasklockDb));
  for (let left = n; left > 0; left -= 10_000) {
    await queue.enqueueMany(Array.from({ length: Math.min(10_000, left) }, () => ({ type: 'noop', payload: null })));
  }
  tasklockDb.close();
}

const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
db.pragma('foreign_keys = ON'); // as db/open.ts: the runs/events inserts pay for their FK checks
db.pragma('wal_autocheckpoint = 1000');
// As the write path does: each write transaction takes its commit number (the event stream's stamp, write-seq.ts).
registerWriteSeq(db);
if (minimal) {
  db.exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL, lease_token TEXT, attempts INTEGER NOT NULL DEFAULT 0);
           CREATE INDEX tasks_pending ON tasks (id) WHERE status = 'pending'`);
  const insert = db.prepare("INSERT INTO tasks (status) VALUES ('pending')");
  db.transaction(() => {
    for (let i = 0; i < n; i += 1) insert.run();
  })();
}

const claim = db.prepare(minimal ? SQL.minimalClaim : SQL.claim);
const complete = db.prepare(minimal ? SQL.minimalComplete : SQL.completeMany);
const full = variant === 'full';
const openRuns = full ? db.prepare(SQL.openRuns) : null;
const closeRuns = full ? db.prepare(SQL.closeRuns) : null;
const countFinishes = full ? db.prepare(SQL.countFinishes) : null;
const workerId = `ceiling:${process.pid}`;

const claimTx = db.transaction(() => {
  beginWriteSeq(db);
  const now = Date.now();
  const rows = claim.all({ workerId, queue: 'default', types: null, limit: k, leaseMs: 30_000, nonce: randomBytes(6).toString('hex'), now });
  if (full && rows.length > 0) openRuns.run({ runs: JSON.stringify(rows.map((row) => [row.id, row.attempts, row.lease_token])), workerId, now });
  return rows;
});

const completeTx = db.transaction((rows) => {
  beginWriteSeq(db);
  const now = Date.now();
  const ended = complete.all({ done: JSON.stringify(rows.map((row) => [row.id, row.lease_token, 'null'])), now });
  if (ended.length !== rows.length) throw new Error(`ceiling: ${rows.length - ended.length} task(s) lost their lease`);
  if (full) {
    closeRuns.run({ closed: JSON.stringify(ended.map((row) => [row.id, row.attempts])), now, outcome: 'succeeded', finishedBy: workerId });
    countFinishes.run({ second: Math.floor(now / 1000), type: 'noop', outcome: 'succeeded', count: ended.length });
  }
});

let done = 0;
let transactions = 0;
const started = performance.now();
for (;;) {
  const rows = claimTx.immediate();
  transactions += 1;
  if (rows.length === 0) break;
  completeTx.immediate(rows);
  transactions += 1;
  done += rows.length;
}
const ms = performance.now() - started;
const left = db.prepare("SELECT count(*) AS c FROM tasks WHERE status <> 'succeeded'").get().c;
db.close();
send('result', { done, left, ms, transactions, tasksPerS: done / (ms / 1000) });
exit(0);
