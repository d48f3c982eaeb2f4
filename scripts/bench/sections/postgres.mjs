// Section 10, PostgreSQL: tasklock's PostgreSQL store beside its SQLite store and beside pg-boss
// and graphile-worker, on one private PostgreSQL server (fsync on, pg.mjs), each run in a fresh
// database. Per system, per repetition (the systems interleaved):
//   throughput  n noop jobs enqueued in bulk before "go", then 4 worker processes; jobs/s = n ÷
//               ("go" → the queue drained). Each handler appends its job id to its process's
//               file: lost = enqueued, never run; doubled = run twice (ledger.mjs).
//   latency     4 idle workers; one producer process enqueues single jobs one at a time, each
//               30–70 ms after the previous one started (pg-boss: 30–530 ms, see pg-systems.mjs):
//               enqueue() called → handler started, both read from the same clock (Date.now) in
//               two processes.
// Drained: tasklock's workers stop by themselves once nothing is due or running (untilEmpty) and
// report when; the peers have no such mode, so the parent asks their database every 20 ms on a
// connection of its own how many jobs are not finished, and stops them at 0 — their shutdown is
// not timed, tasklock's is.
import { accounting, briefError, idLogs, resultsByName } from '../ledger.mjs';
import { pg, startBenchPg } from '../pg.mjs';
import { systemsOn } from '../pg-systems.mjs';
import { makeTempDir, removeTempDir, sleep, stopAtCleanup } from '../proc.mjs';
import { quantile } from '../stats.mjs';

const PROCESSES = 4;
const DRAIN_POLL_MS = 20;
const DRAIN_LIMIT_MS = 300_000;

export async function runPostgres({ sizes, log }) {
  const server = await startBenchPg();
  const releaseServer = stopAtCleanup(server.stop);
  const dir = makeTempDir('postgres');
  try {
    log(`postgres: PostgreSQL ${server.version} in ${server.url}`);
    const systems = systemsOn(server, dir);
    const { record, rows } = resultsByName();
    const latencies = new Map(systems.map((s) => [s.name, []]));
    for (let rep = 0; rep < sizes.pgReps; rep += 1) {
      for (const system of systems) {
        const result = await throughputRun(system, sizes.pgN, dir, rep);
        log(`postgres: ${system.name} ${result.error ?? `${Math.round(result.jobsPerS)} jobs/s, lost ${result.lost}, doubled ${result.doubled}`}`);
        record(result);
        const samples = await latencyRun(system, sizes.pgLatencyTasks, rep).catch((error) => ({ error: briefError(error) }));
        if (Array.isArray(samples)) latencies.get(system.name).push(...samples);
        else log(`postgres: ${system.name} latency probe failed: ${samples.error}`);
      }
    }
    const results = rows().map((row) => ({ ...row, latency: percentiles(latencies.get(row.name)) }));
    for (const r of results) log(`postgres: ${r.name} enqueue→start p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms (${r.latency.tasks} jobs)`);
    return { processes: PROCESSES, n: sizes.pgN, reps: sizes.pgReps, server: { version: server.version, settings: server.settings }, results };
  } finally {
    removeTempDir(dir);
    releaseServer();
    server.stop();
  }
}

async function throughputRun(system, n, dir, rep) {
  const { name, version, setup } = system;
  const logs = idLogs(dir, `${name.replace(' ', '-')}-${rep}`, PROCESSES);
  const place = await system.place(rep);
  const children = [];
  let watcher = null;
  try {
    const ids = await system.prepare(place, n);
    for (let i = 0; i < PROCESSES; i += 1) children.push(system.worker(place, { idLog: logs[i] }, i));
    if (system.unfinishedSql) {
      watcher = new pg.Client({ connectionString: place.db });
      await watcher.connect();
    }
    await Promise.all(children.map((child) => child.next('ready', 60_000)));
    const go = Date.now();
    for (const child of children) child.send('go');
    let endedAt = null;
    if (watcher) {
      endedAt = await drained(watcher, system.unfinishedSql, children);
      for (const child of children) child.send('stop');
    }
    const reports = await Promise.all(children.map((child) => child.next('result', 600_000)));
    await Promise.all(children.map((child) => child.done()));
    endedAt ??= Math.max(...reports.map((r) => r.endedAt));
    const handlerErrors = reports.reduce((total, r) => total + (r.errorCount ?? 0), 0);
    return { name, version, setup, n, jobsPerS: n / ((endedAt - go) / 1000), handlerErrors, ...accounting(ids, logs) };
  } catch (error) {
    return { name, version, setup, n, jobsPerS: NaN, error: briefError(error), ...accounting(null, logs) };
  } finally {
    for (const child of children) child.kill();
    await watcher?.end();
    await place.drop();
  }
}

/** When the database first says no job is left unfinished (Date.now); throws if a worker ends first. */
async function drained(client, sql, children) {
  const started = Date.now();
  for (;;) {
    const { rows } = await client.query(sql);
    if (rows[0].n === 0) return Date.now();
    const ended = children.find((child) => child.exitInfo || child.crash);
    if (ended) throw new Error(`${ended.name} ${ended.describeEnd()} with ${rows[0].n} job(s) unfinished`);
    if (Date.now() - started > DRAIN_LIMIT_MS) throw new Error(`${rows[0].n} job(s) still unfinished after ${DRAIN_LIMIT_MS / 1000} s`);
    await sleep(DRAIN_POLL_MS);
  }
}

/** enqueue() called → handler started, in ms, for `tasks` single jobs into idle workers. */
async function latencyRun(system, tasks, rep) {
  const place = await system.place(`latency_${rep}`);
  const children = [];
  try {
    await system.prepare(place, 0);
    const workers = Array.from({ length: PROCESSES }, (_, i) => system.worker(place, { announce: true }, i));
    const enqueuer = system.enqueuer(place);
    children.push(...workers, enqueuer);
    await Promise.all(children.map((child) => child.next('ready', 60_000)));
    for (const worker of workers) worker.send('go');
    await Promise.all(workers.map((worker) => worker.next('worker-started', 60_000)));
    const starts = startsOf(workers);
    const samples = [];
    for (let i = 0; i < tasks; i += 1) {
      const [min, max] = system.pacingMs;
      await sleep(min + Math.random() * (max - min));
      enqueuer.send('enqueue');
      const { id, calledAt } = await enqueuer.next('enqueued', 30_000);
      samples.push((await starts.of(id, 30_000)) - calledAt);
    }
    for (const worker of workers) worker.send('stop');
    enqueuer.send('quit');
    await Promise.all(children.map((child) => child.next('result', 60_000)));
    await Promise.all(children.map((child) => child.done()));
    return samples;
  } finally {
    for (const child of children) child.kill();
    await place.drop();
  }
}

/** The task-started messages of these workers, by job id: of(id) resolves with its start time. */
function startsOf(workers) {
  const seen = new Map();
  const waiting = new Map();
  for (const worker of workers) {
    void (async () => {
      for (;;) {
        const { id, at } = await worker.next('task-started', 24 * 3600_000).catch(() => ({ id: null }));
        if (id === null) return; // the worker ended
        seen.set(String(id), at);
        waiting.get(String(id))?.(at);
      }
    })();
  }
  return {
    of(id, timeoutMs) {
      if (seen.has(id)) return Promise.resolve(seen.get(id));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`job ${id} did not start within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(id, (at) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(at);
        });
      });
    },
  };
}

function percentiles(samples) {
  return { tasks: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: samples.length > 0 ? Math.max(...samples) : NaN };
}
