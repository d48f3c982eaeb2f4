// The ceiling: tasklock's own claim + complete SQL run back to back by one process on raw
// better-sqlite3, with no write lock, no queue and no worker logic. The database is created by
// openDatabase() (identical schema) and filled with enqueueMany(); then one connection opened
// here drains it, K tasks per claim transaction and the same K per complete transaction.
//   full     claim UPDATE + task_runs insert (its claim event is derived from it, schema 4);
//            complete UPDATE + runs close + event
//   bare     claim UPDATE; complete UPDATE
//   minimal  the same two UPDATEs' shape on a 3-column table with one partial index: what
//            SQLite does for a claim + complete with no queue schema at all (the issue's
//            "raw better-sqlite3" figures were of this kind), so the table shows what the
//            tasks table's width and indexes cost before tasklock adds anything
import { randomBytes } from 'node:crypto';
import { Queue } from '@tasklock/core';
import { openDatabase, SqliteStore } from '@tasklock/core/sqlite';
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
if (minimal) {
  db.exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL, lease_token TEXT, attempts INTEGER NOT NULL DEFAULT 0);
           CREATE INDEX tasks_pending ON tasks (id) WHERE status = 'pending'`);
  const insert = db.prepare("INSERT INTO tasks (status) VALUES ('pending')");
  db.transaction(() => {
    for (let i = 0; i < n; i += 1) insert.run();
  })();
}

const claim = db.prepare(minimal ? SQL.minimalClaim : SQL.claim);
const complete = db.prepare(minimal ? SQL.minimalComplete : SQL.complete);
const full = variant === 'full';
const runOpen = full ? db.prepare(SQL.runOpen) : null;
const runClose = full ? db.prepare(SQL.runClose) : null;
const event = full ? db.prepare(SQL.event) : null;
const workerId = `ceiling:${process.pid}`;

const claimTx = db.transaction(() => {
  const now = Date.now();
  const rows = claim.all({ workerId, queue: 'default', types: null, limit: k, leaseMs: 30_000, nonce: randomBytes(6).toString('hex'), now });
  if (full) {
    for (const row of rows) {
      runOpen.run({ taskId: row.id, attempt: row.attempts, workerId, token: row.lease_token, now });
    }
  }
  return rows;
});

const completeTx = db.transaction((rows) => {
  const now = Date.now();
  for (const row of rows) {
    const ended = complete.get({ id: row.id, token: row.lease_token, now, result: 'null' });
    if (ended === undefined) throw new Error(`ceiling: task ${row.id} lost its lease`);
    if (full) {
      runClose.run({ taskId: row.id, attempt: ended.attempts, now, outcome: 'succeeded', error: null });
      event.run({ taskId: row.id, at: now, transition: 'complete', from: 'running', to: ended.status, attempt: ended.attempts, workerId, detail: null });
    }
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
