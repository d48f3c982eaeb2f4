#!/usr/bin/env node
// Compares SQLite's two online-copy mechanisms on a busy tasklock database (why `tasklock backup`
// uses the one it uses): VACUUM INTO, and the backup API (better-sqlite3 db.backup) with its
// default 100-page steps and with every page in one step. Four `tasklock worker` processes drain
// the queue meanwhile. Run after `pnpm run build`:
//   node scripts/bench-backup.mjs [tasks=200000] [rounds=3]
import { execa } from 'execa';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from '@tasklock/core';

const TASKS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** The 100-page steps give up after this long (they restart whenever another process commits). */
const STEP_LIMIT_MS = 10_000;
const cli = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const handler = fileURLToPath(new URL('../test/fixtures/cli/sleep-handler.mjs', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'tasklock-bench-backup-'));
const db = join(dir, 'q.db');
const queue = await Queue.open(db);
// The SQLite store's own connection (queue.store is a SqliteStore): the copies below are made on it.
const connection = queue.store.database.connection;
const workers = [];
try {
  const payload = { to: 'someone@example.com', body: 'x'.repeat(300) };
  for (let i = 0; i < TASKS; i += 5000) {
    await queue.enqueueMany(Array.from({ length: Math.min(5000, TASKS - i) }, (_, j) => ({ type: 'mail', payload: { ...payload, n: i + j } })));
  }
  const pages = () => connection.pragma('page_count', { simple: true });
  console.log(`database: ${TASKS} tasks, ${pages()} pages`);
  for (let i = 0; i < 4; i += 1) {
    workers.push(execa(process.execPath, [cli, '--db', db, 'worker', '--handler', handler, '--concurrency', '8'], { reject: false, env: { SLEEP_MS: '1' } }));
  }
  const succeeded = () => connection.prepare("SELECT count(*) AS n FROM tasks WHERE status = 'succeeded'").get().n;
  while (succeeded() < 500) await new Promise((resolve) => setTimeout(resolve, 20));

  const methods = {
    'VACUUM INTO': async (dest) => {
      connection.prepare('VACUUM INTO ?').run(dest);
      return {};
    },
    'backup API, 100-page steps': async (dest) => {
      let restarts = 0;
      let last = Infinity;
      const started = performance.now();
      await connection.backup(dest, {
        progress: ({ remainingPages }) => {
          if (remainingPages > last) restarts += 1;
          last = remainingPages;
          if (performance.now() - started > STEP_LIMIT_MS) throw new Error(`gave up after ${STEP_LIMIT_MS} ms, ${restarts} restarts`);
          return 100;
        },
      });
      return { restarts };
    },
    'backup API, one step': async (dest) => {
      await connection.backup(dest, { progress: () => 0x7fffffff });
      return {};
    },
  };
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const [name, copy] of Object.entries(methods)) {
      const dest = join(dir, `copy-${round}-${name.replace(/\W+/g, '-')}.db`);
      const before = succeeded();
      const started = performance.now();
      let outcome;
      try {
        const extra = await copy(dest);
        outcome = `${statSync(dest).size} bytes${extra.restarts !== undefined ? `, ${extra.restarts} restarts` : ''}`;
      } catch (error) {
        outcome = `FAILED: ${error.message}`;
      }
      const ms = performance.now() - started;
      const done = succeeded() - before;
      console.log(`round ${round}  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${outcome}; workers finished ${done} tasks meanwhile (${((done / ms) * 1000).toFixed(0)}/s)`);
      rmSync(dest, { force: true });
    }
  }
} finally {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers);
  queue.close();
  rmSync(dir, { recursive: true, force: true });
}
