// Section 4, peers: the same n noop jobs drained by 4 processes of tasklock (os lock, batch 32,
// at synchronous=NORMAL and at its default FULL), plainjob and liteque, each handler appending
// its job id to its process's file; the ids seen are checked against the ids enqueued (missing =
// lost, seen twice = doubled). Repetitions interleave the queues; jobs/s is the median, lost and
// doubled the totals.
import { join } from 'node:path';
import { tasklockFleet } from '../fleet.mjs';
import { accounting, briefError, idLogs, resultsByName } from '../ledger.mjs';
import { Child, makeTempDir, removeTempDir, runChild } from '../proc.mjs';

const PROCESSES = 4;

export async function runPeers({ sizes, log }) {
  const n = sizes.peersN;
  const { record, rows } = resultsByName();
  for (let rep = 0; rep < sizes.peersReps; rep += 1) {
    const dir = makeTempDir('peers');
    try {
      for (const synchronous of ['NORMAL', 'FULL']) {
        const name = synchronous === 'NORMAL' ? 'tasklock' : 'tasklock FULL';
        const logs = idLogs(dir, name.replace(' ', '-'), PROCESSES);
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
  return { processes: PROCESSES, n, reps: sizes.peersReps, results: rows() };
}

async function runPeer(name, script, setup, workerConfig, n, parentDir, log) {
  const db = join(parentDir, `${name}.db`);
  const logs = idLogs(parentDir, name, PROCESSES);
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
