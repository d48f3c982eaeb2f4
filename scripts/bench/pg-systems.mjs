// The four systems the PostgreSQL section (sections/postgres.mjs) sets side by side, each with the
// options it runs with: tasklock on its PostgreSQL store and on its SQLite store, pg-boss and
// graphile-worker. For each, how to make a fresh store, fill it, and start its worker and
// producer processes (children/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './machine.mjs';
import { createDatabase, dropDatabase } from './pg.mjs';
import { Child, runChild } from './proc.mjs';
import { requireFromCore } from './sqlite.mjs';

/** The pause before each latency probe's enqueue, [min, max) ms: the workers are idle again by then. */
const PACING_MS = [30, 70];

/** tasklock as the SQLite peers section runs it: 64 handlers per process, claims and finishes 32 at a time. */
const TASKLOCK_WORKER = { concurrency: 64, batch: 32 };
/**
 * pg-boss 10: 64 jobs per fetch (as many in flight per process as tasklock), every 0.5 s (its
 * minimum), one work() per process. Polling-bound: 64 ÷ 0.5 s × 4 processes = 512 jobs/s.
 */
const PGBOSS_WORKER = { batchSize: 64, pollingIntervalSeconds: 0.5, works: 1 };
/**
 * graphile-worker 0.17 as its performance page runs it: concurrency 24, a pool of concurrency + 2,
 * localQueue 500 (completeJobBatchDelay 0 and useNodeTime are in its child). Concurrency 8 and 64
 * drained 10,000 jobs no faster here (medians of 3 alternated runs within 10 % of each other).
 */
const GRAPHILE_WORKER = { concurrency: 24, poolSize: 26, localQueueSize: 500 };

/**
 * Each system: its name, version and options; place() a fresh store (a database, or a SQLite
 * file) with drop(); prepare(place, n) its n jobs' ids; worker(place, handler) and
 * enqueuer(place) its processes; unfinishedSql, for the peers, how the parent sees it drained;
 * pacingMs, the pause before each latency probe.
 */
export function systemsOn(server, dir) {
  const freshDatabase = (label) => async (rep) => {
    const name = `bench_${label}_${rep}_${Date.now()}`;
    const db = await createDatabase(server.url, name);
    return { db, drop: () => dropDatabase(server.url, name) };
  };
  const tasklock = (store, place, setup) => ({
    name: `tasklock ${store}`,
    version: `@tasklock/core ${packageVersion('@tasklock/core')}`,
    setup,
    place,
    prepare: async ({ db }, n) => (await runChild('db-tool.mjs', { mode: 'prepare', db, lock: 'os', n, chunk: 10_000, returnIds: true }, { name: `tasklock ${store} setup` })).ids,
    worker: ({ db }, handler, i) =>
      new Child('tasklock-worker.mjs', { db, lock: 'os', ...TASKLOCK_WORKER, untilEmpty: handler.idLog !== undefined, ...handler }, { name: `tasklock ${store} worker ${i + 1}` }),
    enqueuer: ({ db }) => new Child('db-tool.mjs', { mode: 'enqueuer', db, lock: 'os', waitForSuccess: false }, { name: `tasklock ${store} enqueuer` }),
    pacingMs: PACING_MS,
  });
  const peer = (name, script, options, setup, unfinishedSql, pacingMs = PACING_MS) => ({
    name,
    version: `${name} ${packageVersion(name)}`,
    setup,
    place: freshDatabase(name.replace('-', '_')),
    prepare: async ({ db }, n) => (await runChild(script, { mode: 'setup', url: db, n }, { name: `${name} setup` })).ids,
    worker: ({ db }, handler, i) => new Child(script, { mode: 'worker', url: db, ...options, ...handler }, { name: `${name} worker ${i + 1}` }),
    enqueuer: ({ db }) => new Child(script, { mode: 'enqueuer', url: db, ...options }, { name: `${name} enqueuer` }),
    unfinishedSql,
    pacingMs,
  });
  let sqliteFiles = 0;
  const { concurrency, batch } = TASKLOCK_WORKER;
  const g = GRAPHILE_WORKER;
  return [
    tasklock('postgres', freshDatabase('tasklock'), `pg ${requireFromCore('pg/package.json').version}, poolSize 4 (default); batch ${batch}, concurrency ${concurrency}`),
    tasklock(
      'sqlite',
      async () => ({ db: join(dir, `queue-${(sqliteFiles += 1)}.db`), drop: async () => undefined }),
      `SQLite ${machineInfo().sqlite}, a file beside the server's, os lock, synchronous=FULL (default); batch ${batch}, concurrency ${concurrency}`,
    ),
    peer(
      'pg-boss',
      'pgboss-worker.mjs',
      PGBOSS_WORKER,
      `work() × ${PGBOSS_WORKER.works} per process, batchSize ${PGBOSS_WORKER.batchSize}, pollingIntervalSeconds ${PGBOSS_WORKER.pollingIntervalSeconds}; insert() in bulk`,
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'noop' AND state < 'completed'",
      // Its workers poll every 0.5 s, all in step (they start on one "go"): a pause of 30–70 ms
      // after a poll would always land just after the next one, so its pauses spread over a
      // whole poll period and its enqueues fall at every phase of it.
      [PACING_MS[0], PACING_MS[0] + PGBOSS_WORKER.pollingIntervalSeconds * 1000],
    ),
    peer(
      'graphile-worker',
      'graphile-worker.mjs',
      GRAPHILE_WORKER,
      `concurrency ${g.concurrency}, pool ${g.poolSize}, localQueue { size: ${g.localQueueSize} }, completeJobBatchDelay 0, useNodeTime; addJobs() in bulk`,
      'SELECT count(*)::int AS n FROM graphile_worker._private_jobs',
    ),
  ];
}

const ROOT_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** The installed version of one of the workspace's dependencies. */
function packageVersion(name) {
  return JSON.parse(readFileSync(join(ROOT_MODULES, name, 'package.json'), 'utf8')).version;
}
