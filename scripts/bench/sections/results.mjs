// Section 11, results: enqueue → result with queue.waitFor, the worker in ANOTHER process. Per
// store (SQLite at its default synchronous=FULL; PostgreSQL on the bench's private server, fsync
// on, pg.mjs): one idle worker process (concurrency 8, noop handler); one producer process
// enqueues single tasks one at a time, 30–70 ms apart, and times enqueue() called → waitFor()
// resolved with the succeeded task, on its own clock. The worker is woken by the store's change
// signal for due tasks, the producer by the one for ends (WAL watch; LISTEN/NOTIFY).
import { join } from 'node:path';
import { createDatabase, dropDatabase, startBenchPg } from '../pg.mjs';
import { Child, makeTempDir, removeTempDir, stopAtCleanup } from '../proc.mjs';
import { quantile } from '../stats.mjs';

const PACING_MS = [30, 70];

export async function runResults({ sizes, log }) {
  const dir = makeTempDir('results');
  const server = startBenchPg().then((started) => ({ ...started, release: stopAtCleanup(started.stop) }));
  try {
    const stores = [];
    stores.push({ store: 'sqlite', ...(await probe(join(dir, 'results.db'), sizes.resultsTasks)) });
    const pg = await server;
    const url = await createDatabase(pg.url, 'bench_results');
    try {
      stores.push({ store: 'postgres', ...(await probe(url, sizes.resultsTasks)) });
    } finally {
      await dropDatabase(pg.url, 'bench_results');
    }
    for (const s of stores) log(`results: ${s.store} enqueue→result p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms (${s.tasks} tasks)`);
    return { tasks: sizes.resultsTasks, pacingMs: PACING_MS, stores };
  } finally {
    removeTempDir(dir);
    const pg = await server.catch(() => null);
    pg?.release();
    pg?.stop();
  }
}

/** One store: an idle worker process, a producer process timing `tasks` enqueue → result round trips. */
async function probe(db, tasks) {
  const worker = new Child('tasklock-worker.mjs', { db, lock: 'os', concurrency: 8, batch: 8 }, { name: 'results worker' });
  const producer = new Child('result-waiter.mjs', { db, tasks, pacingMs: PACING_MS }, { name: 'results producer' });
  try {
    await Promise.all([worker.next('ready', 60_000), producer.next('ready', 60_000)]);
    worker.send('go');
    await worker.next('worker-started', 60_000);
    producer.send('go');
    const { samples } = await producer.next('result', 300_000);
    await producer.done();
    worker.send('stop');
    await worker.next('result', 60_000);
    await worker.done();
    return { tasks: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: Math.max(...samples) };
  } finally {
    worker.kill();
    producer.kill();
  }
}
