// Section 6, idle worker: CPU of one worker process with nothing to do (beside a bare Node
// process as baseline), then enqueue → handler start latency for single tasks enqueued one at a
// time by another process, each after the previous one finished (beside the fs.watch floor:
// when a separate process watching <db>-wal hears the enqueue's commit). Default options
// (synchronous=FULL), the os lock.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child, cpuSeconds, makeTempDir, removeTempDir, runChild, sleep } from '../proc.mjs';
import { quantile } from '../stats.mjs';

export async function runIdle({ sizes, log }) {
  const dir = makeTempDir('idle');
  const db = join(dir, 'queue.db');
  const startLog = join(dir, 'starts.log');
  const children = [];
  const spawn = (script, config, name) => {
    const child = new Child(script, config, { name });
    children.push(child);
    return child;
  };
  try {
    await runChild('db-tool.mjs', { mode: 'prepare', db, lock: 'os', n: 0, chunk: 1 });
    const worker = spawn('tasklock-worker.mjs', { db, lock: 'os', concurrency: 64, untilEmpty: false, startLog }, 'idle worker');
    await worker.next('ready');
    worker.send('go');
    const bare = spawn('idle-node.mjs', {}, 'bare node');
    await bare.next('ready');
    await sleep(1000); // registration and the first reclaim sweep are not idling

    const before = { worker: cpuSeconds(worker.pid), bare: cpuSeconds(bare.pid), at: performance.now() };
    await sleep(sizes.idleSeconds * 1000);
    const wallS = (performance.now() - before.at) / 1000;
    const cpuPct = {
      worker: ((cpuSeconds(worker.pid) - before.worker) / wallS) * 100,
      bare: ((cpuSeconds(bare.pid) - before.bare) / wallS) * 100,
    };
    bare.kill();
    log(`idle: worker ${cpuPct.worker.toFixed(2)} % CPU, bare node ${cpuPct.bare.toFixed(2)} % over ${wallS.toFixed(1)} s`);

    // The enqueuer's synchronous mode decides how long its commit stays invisible after its WAL
    // write (FULL fsyncs in between): both are measured, FULL being the default.
    const passes = {};
    for (const synchronous of ['FULL', 'NORMAL']) {
      const probe = spawn('watch-probe.mjs', { db }, 'watch probe');
      const enqueuer = spawn('db-tool.mjs', { mode: 'enqueuer', db, lock: 'os', synchronous }, `enqueuer ${synchronous}`);
      await Promise.all([probe.next('ready'), enqueuer.next('ready')]);
      const trips = [];
      for (let i = 0; i < sizes.latencyTasks; i += 1) {
        await sleep(30 + Math.random() * 40); // let the worker fall back asleep between tasks
        enqueuer.send('enqueue');
        trips.push(await enqueuer.next('finished', 30_000));
      }
      probe.send('stop');
      const { times: walEvents } = await probe.next('result');
      await probe.done();
      enqueuer.send('quit');
      await enqueuer.done();
      passes[synchronous] = { trips, walEvents };
    }
    worker.send('stop');
    await worker.next('result');
    await worker.done();

    const starts = new Map(readFileSync(startLog, 'utf8').trim().split('\n').map((line) => line.split(' ').map(Number)));
    const pct = (list) => ({ p50: quantile(list, 0.5), p99: quantile(list, 0.99), max: Math.max(...list) });
    const latency = {};
    for (const [synchronous, { trips, walEvents }] of Object.entries(passes)) {
      latency[synchronous] = {
        tasks: trips.length,
        // enqueue() called → handler started: what a producer waiting for its task sees
        callToStartMs: pct(trips.map((t) => starts.get(t.id) - t.calledAt)),
        commitToStartMs: pct(trips.map((t) => starts.get(t.id) - t.committedAt)),
        enqueueCallMs: pct(trips.map((t) => t.committedAt - t.calledAt)),
        // enqueue() called → a separate process watching <db>-wal hears the commit's first write
        floorMs: pct(trips.map((t) => (walEvents.find((at) => at >= t.calledAt) ?? NaN) - t.calledAt).filter(Number.isFinite)),
      };
      log(`idle: enqueuer ${synchronous}: enqueue→start p50 ${latency[synchronous].callToStartMs.p50} ms p99 ${latency[synchronous].callToStartMs.p99} ms; fs.watch floor p50 ${latency[synchronous].floorMs.p50} ms`);
    }
    const result = { idleSeconds: sizes.idleSeconds, cpuPct, latency };
    return result;
  } finally {
    for (const child of children) child.kill();
    removeTempDir(dir);
  }
}
