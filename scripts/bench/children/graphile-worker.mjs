// graphile-worker 0.17 (children/pg-peer.mjs gives the modes), set up as its performance page
// (worker.graphile.org/docs/performance) does for throughput: localQueue { size: 500 },
// completeJobBatchDelay 0 and failJobBatchDelay 0, useNodeTime, and a pool larger than the
// concurrency. The pool is made before "ready" (tasklock's worker also connects before it);
// run() starts on "go". Bulk enqueue is WorkerUtils.addJobs (one add_jobs call per chunk).
//   config: url, concurrency, poolSize, localQueueSize
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import { pg } from '../pg.mjs';
import { runPeer } from './pg-peer.mjs';
import { config } from './protocol.mjs';

const TASK = 'noop';
const ADD_CHUNK = 10_000;
const errors = [];
// Its default logger writes every job to the console; tasklock's worker logs nothing per task either.
const logger = new Logger(() => (level, message) => {
  if (level === 'error') errors.push(message);
});
let pool = null;
let runner = null;
let utils = null;

await runPeer({
  async setup(n) {
    await runMigrations({ connectionString: config.url, logger });
    const setupUtils = await makeWorkerUtils({ connectionString: config.url, logger });
    const ids = [];
    for (let i = 0; i < n; i += ADD_CHUNK) {
      const jobs = await setupUtils.addJobs(Array.from({ length: Math.min(ADD_CHUNK, n - i) }, () => ({ identifier: TASK, payload: {} })));
      for (const job of jobs) ids.push(job.id);
    }
    await setupUtils.release();
    return ids;
  },
  async open() {
    pool = new pg.Pool({ connectionString: config.url, max: config.poolSize });
    await pool.query('SELECT 1');
    utils = await makeWorkerUtils({ pgPool: pool, logger });
  },
  async start(onJob) {
    runner = await run({
      pgPool: pool,
      logger,
      concurrency: config.concurrency,
      noHandleSignals: true,
      useNodeTime: true,
      taskList: { [TASK]: async (_payload, helpers) => onJob(helpers.job.id) },
      preset: { worker: { localQueue: { size: config.localQueueSize }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
  },
  async stop() {
    await runner?.stop();
    await utils.release();
    await pool.end();
    return errors;
  },
  async enqueueOne() {
    return (await utils.addJob(TASK, {})).id;
  },
});
