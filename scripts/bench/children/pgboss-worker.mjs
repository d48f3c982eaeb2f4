// pg-boss 10 (children/pg-peer.mjs gives the modes). Its README's setup: new PgBoss(url),
// start(), createQueue(name), then work(name, options, handler) with a handler that takes an
// array of jobs. Tuned for throughput as v10 allows: work() fetches batchSize jobs per poll and
// polls every pollingIntervalSeconds (0.5 s is its minimum); each work() call is one more polling
// worker (v10 has no teamSize). Bulk enqueue is insert(jobs), which takes our own ids.
//   config: url, batchSize, pollingIntervalSeconds, works (work() calls per process)
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { runPeer } from './pg-peer.mjs';
import { config } from './protocol.mjs';

const QUEUE = 'noop';
const INSERT_CHUNK = 10_000;
const errors = [];
const boss = new PgBoss({ connectionString: config.url });
boss.on('error', (error) => errors.push(error.message));

await runPeer({
  async setup(n) {
    await boss.start();
    await boss.createQueue(QUEUE);
    const ids = Array.from({ length: n }, () => randomUUID());
    for (let i = 0; i < n; i += INSERT_CHUNK) await boss.insert(ids.slice(i, i + INSERT_CHUNK).map((id) => ({ id, name: QUEUE, data: {} })));
    await boss.stop({ graceful: false, wait: true });
    return ids;
  },
  async open() {
    await boss.start();
  },
  async start(onJob) {
    for (let i = 0; i < config.works; i += 1) {
      await boss.work(QUEUE, { batchSize: config.batchSize, pollingIntervalSeconds: config.pollingIntervalSeconds }, async (jobs) => {
        for (const job of jobs) onJob(job.id);
      });
    }
  },
  async stop() {
    await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    return errors;
  },
  async enqueueOne() {
    return boss.send(QUEUE, {});
  },
});
