// Section 7, memory: one worker (concurrency 64, synchronous=NORMAL) draining a continuous stream
// of noop tasks that a feeder process keeps topped up; the parent samples the worker's VmRSS and
// the size of <db>-wal. The parent holds no connection: statSync opens nothing, so it cannot
// drop anyone's SQLite locks. `--memory-seconds 600` makes this the 10-minute flatness check.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Child, makeTempDir, removeTempDir, rssBytes, runChild, sleep } from '../proc.mjs';

const WAL_AUTOCHECKPOINT_PAGES = 1000; // db/open.ts
const PAGE_SIZE = 4096; // SQLite's default, which tasklock keeps

export async function runMemory({ sizes, log }) {
  const seconds = sizes.memorySeconds;
  const earlyS = Math.min(10, seconds / 2);
  const dir = makeTempDir('memory');
  const db = join(dir, 'queue.db');
  const children = [];
  try {
    await runChild('db-tool.mjs', { mode: 'prepare', db, lock: 'flock', synchronous: 'NORMAL', n: 5000, chunk: 5000 });
    const worker = new Child('tasklock-worker.mjs', { db, lock: 'flock', synchronous: 'NORMAL', concurrency: 64, untilEmpty: false }, { name: 'memory worker' });
    const feeder = new Child('db-tool.mjs', { mode: 'feeder', db, lock: 'flock', synchronous: 'NORMAL', low: 5000, batch: 2000 }, { name: 'feeder' });
    children.push(worker, feeder);
    await Promise.all([worker.next('ready'), feeder.next('ready')]);
    await sleep(500);
    const rssOpened = rssBytes(worker.pid); // baseline: the same process with the queue open, before any task
    worker.send('go');
    feeder.send('go');

    const started = performance.now();
    const rss = [];
    let walMax = 0;
    let nextRss = 0;
    for (;;) {
      const t = (performance.now() - started) / 1000;
      if (worker.exitInfo || feeder.exitInfo) throw new Error(`memory: ${worker.exitInfo ? worker.name : feeder.name} ${(worker.exitInfo ? worker : feeder).describeEnd()}`);
      walMax = Math.max(walMax, walSize(db));
      if (t >= nextRss) {
        rss.push({ t, bytes: rssBytes(worker.pid) });
        nextRss += 1;
      }
      if (t >= seconds) break;
      await sleep(250);
    }
    feeder.send('stop');
    const fed = await feeder.next('result', 60_000);
    worker.send('stop');
    const done = await worker.next('result', 60_000);
    await Promise.all([feeder.done(), worker.done()]);

    const at = (s) => rss.reduce((best, x) => (Math.abs(x.t - s) < Math.abs(best.t - s) ? x : best)).bytes;
    const result = {
      seconds,
      earlyS,
      rssOpened,
      rssEarly: at(earlyS),
      rssEnd: rss.at(-1).bytes,
      rssMax: Math.max(...rss.map((x) => x.bytes)),
      rssSeries: rss.map((x) => [Math.round(x.t), x.bytes]),
      walMaxBytes: walMax,
      walBoundBytes: WAL_AUTOCHECKPOINT_PAGES * PAGE_SIZE,
      succeeded: done.stats.succeeded,
      tasksPerS: done.stats.succeeded / seconds,
      enqueued: fed.enqueued,
      busyRetries: done.metrics.busyRetries,
      failures: done.metrics.failures,
    };
    result.growthBytes = result.rssEnd - result.rssEarly;
    log(`memory: RSS ${mb(result.rssEarly)} MB at ${earlyS} s, ${mb(result.rssEnd)} MB at ${seconds} s; WAL max ${mb(walMax)} MB; ${result.succeeded} tasks`);
    return result;
  } finally {
    for (const child of children) child.kill();
    removeTempDir(dir);
  }
}

function walSize(db) {
  try {
    return statSync(`${db}-wal`).size;
  } catch {
    return 0;
  }
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(1);
}
