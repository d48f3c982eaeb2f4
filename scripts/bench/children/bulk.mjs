// Bulk enqueue: Queue.enqueueMany() of n tasks in one transaction, against the same rows inserted
// by raw better-sqlite3 in one transaction (tasks only, and tasks + their enqueue events, with
// the statements of sql/enqueue.ts and sql/events.ts). Each measurement gets a fresh database
// created by openDatabase(), so the schema and pragmas are identical.
import { join } from 'node:path';
import { DEFAULT_BACKOFF, Queue } from '@tasklock/core';
import { openDatabase } from '@tasklock/core/sqlite';
import { SQL } from '../ceiling-sql.mjs';
import { Database } from '../sqlite.mjs';
import { config, exit, send } from './protocol.mjs';

const { dir, n, reps, synchronous } = config;
const INSERT_TASK = `INSERT INTO tasks (type, queue, status, priority, payload, max_attempts, backoff, unique_key, timeout_ms,
                        run_at, created_at, updated_at)
     VALUES (@type, @queue, 'pending', @priority, @payload, @maxAttempts, @backoff, @uniqueKey, @timeoutMs,
             @runAt, @now, @now)
     RETURNING *`;

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

async function raw(withEvents) {
  const db = new Database(await freshDatabase());
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  const insert = db.prepare(INSERT_TASK);
  const event = db.prepare(SQL.event);
  const backoff = JSON.stringify(DEFAULT_BACKOFF);
  const started = performance.now();
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i += 1) {
      const row = insert.get({ type: 'noop', queue: 'default', priority: 0, payload: JSON.stringify({ i }), maxAttempts: 3, backoff, uniqueKey: null, timeoutMs: null, runAt: now, now });
      if (withEvents) event.run({ taskId: row.id, at: now, transition: 'enqueue', from: null, to: 'pending', attempt: 0, workerId: null, detail: null });
    }
  }).immediate();
  const ms = performance.now() - started;
  db.close();
  return ms;
}

const ms = { tasklock: [], rawTasks: [], rawTasksEvents: [] };
for (let rep = 0; rep < reps; rep += 1) {
  ms.tasklock.push(await tasklock());
  ms.rawTasks.push(await raw(false));
  ms.rawTasksEvents.push(await raw(true));
}
send('result', { ms });
exit(0);
