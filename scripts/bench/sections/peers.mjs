// Section 4, peers: the same n noop jobs drained by 4 processes of tasklock (os lock, batch 32,
// at synchronous=NORMAL and at its default FULL), plainjob and liteque, each handler appending
// its job id to its process's file; the ids seen are checked against the ids enqueued (missing =
// lost, seen twice = doubled). Repetitions interleave the queues; jobs/s is the median, lost and
// doubled the totals.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tasklockFleet } from '../fleet.mjs';
import { Child, makeTempDir, removeTempDir, runChild } from '../proc.mjs';
import { median } from '../stats.mjs';

const PROCESSES = 4;

export async function runPeers({ sizes, log }) {
  const n = sizes.peersN;
  const runs = new Map();
  const record = (result) => runs.set(result.name, [...(runs.get(result.name) ?? []), result]);
  for (let rep = 0; rep < sizes.peersReps; rep += 1) {
    const dir = makeTempDir('peers');
    try {
      for (const synchronous of ['NORMAL', 'FULL']) {
        const name = synchronous === 'NORMAL' ? 'tasklock' : 'tasklock FULL';
        const logs = idLogs(dir, name.replace(' ', '-'));
        const fleet = await tasklockFleet({ strategy: 'os', workers: PROCESSES, batch: 32, n, synchronous, idLogs: logs });
        record({ name, setup: `os, batch 32, concurrency 64, synchronous=${synchronous}`, n, jobsPerS: fleet.tasksPerS, ...accounting(fleet.enqueuedIds, logs) });
        log(`peers: ${name} ${Math.round(fleet.tasksPerS)} jobs/s`);
      }
      record(await runPeer('plainjob', 'plainjob-worker.mjs', 'one job at a time per process, pollIntervall 10 ms', { pollMs: 10 }, n, dir, log));
      record(await runPeer('liteque', 'liteque-worker.mjs', 'Runner concurrency 64, pollIntervalMs 10', { pollMs: 10, concurrency: 64 }, n, dir, log));
    } finally {
      removeTempDir(dir);
    }
  }
  return { processes: PROCESSES, n, reps: sizes.peersReps, results: [...runs.values()].map(summarize) };
}

/** One row per queue: the median jobs/s; lost, doubled, unknown and handler errors summed; a failure's reason kept. */
function summarize(results) {
  const ok = results.filter((r) => r.error === undefined);
  const total = (key) => results.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  return {
    ...results[0],
    reps: results.length,
    jobsPerS: ok.length > 0 ? median(ok.map((r) => r.jobsPerS)) : NaN,
    jobsPerSAll: results.map((r) => r.jobsPerS),
    lost: total('lost'),
    doubled: total('doubled'),
    unknown: total('unknown'),
    handlerErrors: total('handlerErrors'),
    error: results.find((r) => r.error !== undefined)?.error,
  };
}

async function runPeer(name, script, setup, workerConfig, n, parentDir, log) {
  const db = join(parentDir, `${name}.db`);
  const logs = idLogs(parentDir, name);
  const children = [];
  try {
    const { ids } = await runChild(script, { mode: 'setup', db, n }, { name: `${name} setup` });
    for (let i = 0; i < PROCESSES; i += 1) {
      children.push(new Child(script, { mode: 'worker', db, idLog: logs[i], ...workerConfig }, { name: `${name} worker ${i + 1}` }));
    }
    await Promise.all(children.map((child) => child.next('ready', 60_000)));
    const go = performance.now();
    for (const child of children) child.send('go');
    const reports = await Promise.all(children.map((child) => child.next('result', 600_000)));
    await Promise.all(children.map((child) => child.done()));
    const wallMs = Math.max(...children.map((child) => child.exitInfo.at)) - go;
    const handlerErrors = reports.reduce((total, r) => total + (r.errorCount ?? 0), 0);
    log(`peers: ${name} ${Math.round(n / (wallMs / 1000))} jobs/s`);
    return { name, setup, n, jobsPerS: n / (wallMs / 1000), handlerErrors, ...accounting(ids, logs) };
  } catch (error) {
    const reason = briefError(error);
    log(`peers: ${name} cannot run here: ${reason}`);
    return { name, setup, n, jobsPerS: NaN, error: reason, ...accounting(null, logs) };
  } finally {
    for (const child of children) child.kill();
  }
}

function idLogs(dir, name) {
  return Array.from({ length: PROCESSES }, (_, i) => join(dir, `${name}-${i + 1}.ids`));
}

/** Lost = enqueued but never handled; doubled = handled more than once. */
function accounting(enqueued, logs) {
  const seen = new Map();
  for (const file of logs) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line !== '') seen.set(line, (seen.get(line) ?? 0) + 1);
    }
  }
  const handled = [...seen.values()].reduce((a, b) => a + b, 0);
  if (enqueued === null) return { handled, lost: NaN, doubled: NaN };
  const ids = new Set(enqueued.map(String));
  return {
    handled,
    lost: [...ids].filter((id) => !seen.has(id)).length,
    doubled: [...seen.values()].filter((count) => count > 1).length,
    unknown: [...seen.keys()].filter((id) => !ids.has(id)).length,
  };
}

/** The error's first line and the packages on its stack, innermost first: enough to say why. */
function briefError(error) {
  const text = error instanceof Error ? error.message : String(error);
  const crash = /crashed: (.*)/.exec(text)?.[1] ?? text.split('\n')[0];
  const frames = [...text.matchAll(/at (\S+) \(.*?node_modules\/\.pnpm\/([^/]+)\//g)].map(([, fn, dir]) => ({ fn, pkg: dir.split('_')[0] }));
  const chain = [];
  for (const { fn, pkg } of frames) {
    if (chain.at(-1)?.pkg !== pkg) chain.push({ pkg, fn });
  }
  return chain.length === 0 ? crash : `${crash} (${chain.map(({ pkg, fn }) => `${pkg} ${fn}`).join(' ← ')})`;
}
