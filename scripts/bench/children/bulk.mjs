// Bulk enqueue: Queue.enqueueMany() of n tasks in one transaction, against the same rows inserted
// by raw better-sqlite3 in one transaction with the store's own INSERT (HOT_PATH_SQL.insertTask;
// an enqueue writes no event row since schema 6). Each measurement gets a fresh database created
// by openDatabase(), so the schema and pragmas are identical.
import { join } from 'node:path';
import { DEFAULT_BACKOFF, Queue } from '@tasklock/core';
import { beginWriteSeq, endWriteSeq, openDatabase, registerWriteSeq } from '@tasklock/core/sqlite';
import { SQL } from '../ceiling-sql.mjs';
import { Database } from '../sqlite.mjs';
import { config, exit, send } from './protocol.mjs';

const { dir, n, reps, synchronous } = config;

let fresh = 0;
async function freshDatabase() {
  const path = join(dir, `bulk-${(fresh += 1)}.db`);
  (await openDatabase(path, { lock: 'os', lockRequired: true, synchronous })).close();
  return path;
}

async function tasklock() {
  const queue = await Queue.open(await freshDatabase(), { sqlite: { lock: 'os', lockRequired: true, synchronous } });
  const items = Array.from({ length: n }, (_, i) => ({ type: 'noop', payload: { i } }));
  const started = performance.now();
  const tasks = await queue.enqueueMany(items);
  const ms = performance.now() - started;
  queue.close();
  if (tasks.length !== n) throw new Error(`enqueueMany returned ${tasks.length} of ${n}`);
  return ms;
}

async function raw() {
  const db = new Database(await freshDatabase());
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  // The store's INSERT stamps its transaction's place in commit order, as its write path numbers it.
  registerWriteSeq(db);
  const insert = db.prepare(SQL.insertTask);
  const backoff = JSON.stringify(DEFAULT_BACKOFF);
  const started = performance.now();
  const now = Date.now();
  db.transaction(() => {
    beginWriteSeq(db);
    for (let i = 0; i < n; i += 1) {
      insert.run({ type: 'noop', queue: 'default', priority: 0, payload: JSON.stringify({ i }), maxAttempts: 3, backoff, uniqueKey: null, timeoutMs: null, runAt: now, traceContext: null }, now, now);
    }
  }).immediate();
  endWriteSeq(db);
  const ms = performance.now() - started;
  db.close();
  return ms;
}

const ms = { tasklock: [], rawTasks: [] };
for (let rep = 0; rep < reps; rep += 1) {
  ms.tasklock.push(await tasklock());
  ms.rawTasks.push(await raw());
}
send('result', { ms });
exit(0);
