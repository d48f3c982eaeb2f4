// plainjob's documented multi-process setup: each process opens its own better-sqlite3
// connection, defineQueue({ connection: better(db) }) + defineWorker(); the jobs were added up
// front (mode "setup"). Each handler appends its job id to this process's file.
//   setup   create the queue and addMany() n noop jobs; reports their ids
//   worker  "ready" → "go" → processAll() (below) until no job is pending or processing
import { openSync, writeSync, closeSync } from 'node:fs';
import { better, defineQueue, defineWorker, JobStatus } from 'plainjob';
import { Database } from '../sqlite.mjs';
import { command, config, exit, send } from './protocol.mjs';

// plainjob logs every job at debug level to its logger (console by default): silence it, as
// tasklock's worker logs nothing per task either.
const logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const queue = defineQueue({ connection: better(new Database(config.db)), logger });

if (config.mode === 'setup') {
  const { ids } = queue.addMany('noop', Array.from({ length: config.n }, (_, i) => ({ i })));
  queue.close();
  send('result', { ids });
  exit(0);
}

const fd = openSync(config.idLog, 'a');
const worker = defineWorker('noop', (job) => void writeSync(fd, `${job.id}\n`), { queue, logger, pollIntervall: config.pollMs });
send('ready', { pid: process.pid });
await command('go');
const startedAt = Date.now();
await processAll(queue, worker);
closeSync(fd);
queue.close();
send('result', { startedAt, endedAt: Date.now() });
exit(0);

/**
 * plainjob's README drains with `processAll`, which its src/worker.ts defines but its published
 * dist (0.0.14) does not export: this is that function's loop (start, poll the pending +
 * processing count every 50 ms, stop), without its timeout.
 */
async function processAll(q, w) {
  void w.start();
  await new Promise((resolve) => setTimeout(resolve, 10));
  while (q.countJobs({ status: JobStatus.Pending }) + q.countJobs({ status: JobStatus.Processing }) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await w.stop();
}
