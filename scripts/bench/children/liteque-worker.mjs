// liteque: buildDBClient(db, { runMigrations: true }), SqliteQueue, and a Runner with
// concurrency 64 and a short poll interval. Each handler appends its job id to this process's file.
//   setup   migrate and enqueue n noop jobs (liteque has no bulk enqueue); reports their ids
//   worker  "ready" → "go" → runner.runUntilEmpty()
import { openSync, writeSync, closeSync } from 'node:fs';
import { buildDBClient, Runner, SqliteQueue } from 'liteque';
import { command, config, exit, send } from './protocol.mjs';

const db = buildDBClient(config.db, { runMigrations: true });
const queue = new SqliteQueue('bench', db, { defaultJobArgs: { numRetries: 0 }, keepFailedJobs: true });

if (config.mode === 'setup') {
  const ids = [];
  for (let i = 0; i < config.n; i += 1) ids.push((await queue.enqueue({ i })).id);
  send('result', { ids });
  exit(0);
}

const fd = openSync(config.idLog, 'a');
const errors = [];
const runner = new Runner(
  queue,
  {
    run: async (job) => void writeSync(fd, `${job.id}\n`),
    onError: async (job) => void errors.push(`job ${job.id}: ${job.error?.message}`),
  },
  { concurrency: config.concurrency, pollIntervalMs: config.pollMs, timeoutSecs: 60 },
);
send('ready', { pid: process.pid });
await command('go');
const startedAt = Date.now();
await runner.runUntilEmpty();
closeSync(fd);
send('result', { startedAt, endedAt: Date.now(), errors: errors.slice(0, 5), errorCount: errors.length });
exit(0);
