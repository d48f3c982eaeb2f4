// Section 7, memory: one worker (concurrency 64, synchronous=NORMAL) draining a continuous stream
// of noop tasks that a feeder process keeps topped up; the parent samples the worker's VmRSS and
// the size of <db>-wal. The parent holds no connection: statSync opens nothing, so it cannot
// drop anyone's SQLite locks. `--memory-seconds 600` makes this the 10-minute flatness check.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Child, makeTempDir, removeTempDir, rssBytes, runChild, sleep } from '../proc.mjs';

const WAL_AUTOCHECKPOINT_PAGES = 1000; // db/open.ts
const PAGE_SIZE = 4096; // SQLite's default, which tasklock keeps

// The tuned pass: the same worker started with V8's young generation capped at 1 MB per
// semi-space. A queue worker allocates many short-lived objects per task; V8's default lets the
// young generation grow to 16 MB × 2 (+ its copy reserve) before scavenging, which is most of the
// gap between an opened queue and a draining one. The flag must be given at start-up
// (v8.setFlagsFromString later does not shrink the space), so it is a deployment setting.
export const TUNED_NODE_OPTIONS = '--max-semi-space-size=1';

export async function runMemory({ sizes, log }) {
  const seconds = sizes.memorySeconds;
  const plain = await drainFor(seconds, null, log);
  const tuned = await drainFor(seconds, TUNED_NODE_OPTIONS, log);
  return { ...plain, tuned: { nodeOptions: TUNED_NODE_OPTIONS, ...tuned } };
}

async function drainFor(seconds, nodeOptions, log) {
  const earlyS = Math.min(10, seconds / 2);
  const dir = makeTempDir('memory');
  const db = join(dir, 'queue.db');
  const children = [];
  try {
    await runChild('db-tool.mjs', { mode: 'prepare', db, lock: 'os', synchronous: 'NORMAL', n: 5000, chunk: 5000 });
    const env = nodeOptions ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, nodeOptions].filter(Boolean).join(' ') } : undefined;
    const worker = new Child('tasklock-worker.mjs', { db, lock: 'os', synchronous: 'NORMAL', concurrency: 64, untilEmpty: false }, { name: 'memory worker', env });
    const feeder = new Child('db-tool.mjs', { mode: 'feeder', db, lock: 'os', synchronous: 'NORMAL', low: 5000, batch: 2000 }, { name: 'feeder' });
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
    log(`memory${nodeOptions ? ` (NODE_OPTIONS ${nodeOptions})` : ''}: RSS ${mb(result.rssEarly)} MB at ${earlyS} s, ${mb(result.rssEnd)} MB at ${seconds} s; WAL max ${mb(walMax)} MB; ${result.succeeded} tasks`);
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
