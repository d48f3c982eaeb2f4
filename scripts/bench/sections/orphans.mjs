// Section 9, orphans: a `tasklock worker --exec` running TASKS long commands (each with a
// grandchild, all ignoring SIGTERM) is SIGKILLed by its pid alone, as the OOM killer does, while
// a second `--exec` worker of the same host is up and idle. Measured: (1) ms from the kill until
// no process of those commands' process groups runs (read from /proc, 1 ms polls) — the
// supervisor's lifeline, no sweep involved; (2) ms until each task has started again on the
// survivor, read from the runs' started_at: section 8's figure plus whatever the sweep's
// "previous attempt gone?" check adds (section 8, in-process handlers, is the reference).
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { liveGroupMembers } from '../../../packages/stress/dist/process-groups.js';
import { makeTempDir, removeTempDir, sleep } from '../proc.mjs';
import { median } from '../stats.mjs';

const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));
const TASKS = 4;
const LONG = "trap '' TERM; if [ \"$TASKLOCK_ATTEMPT\" = 1 ]; then (trap '' TERM; exec sleep 600) & exec sleep 600; fi";

function tasklock(db, args) {
  return execFileSync(process.execPath, [CLI, '--db', db, ...args], { encoding: 'utf8' });
}

function liveMembers(pgid) {
  return liveGroupMembers(pgid).length;
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`orphans: timed out waiting for ${what}`);
    await sleep(5);
  }
}

function startWorker(db, id) {
  const child = spawn(process.execPath, [CLI, '--db', db, 'worker', '--exec', LONG, '--concurrency', String(TASKS), '--worker-id', id], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (child.log += chunk));
  return child;
}

export async function runOrphans({ sizes, log }) {
  const runs = [];
  for (let rep = 0; rep < sizes.recoveryReps; rep += 1) {
    const dir = makeTempDir('orphans');
    const children = [];
    try {
      const db = join(dir, 'queue.db');
      tasklock(db, ['init']);
      const ids = Array.from({ length: TASKS }, () => JSON.parse(tasklock(db, ['--json', 'enqueue', 'long', '{}'])).ids[0]);
      const victim = startWorker(db, 'victim');
      children.push(victim);
      const handlerOf = (id) => JSON.parse(tasklock(db, ['--json', 'show', String(id)])).runs.at(-1)?.handler;
      let pgids = [];
      await until('every command started', () => {
        pgids = ids.map((id) => handlerOf(id)?.pgid);
        return pgids.every((g) => g !== undefined && liveMembers(g) >= 4);
      }, 30_000);
      const survivor = startWorker(db, 'survivor');
      children.push(survivor);
      await until('the survivor started', () => survivor.log.includes('worker survivor started'), 30_000);

      const killedAt = Date.now();
      const killedAtPerf = performance.now();
      process.kill(victim.pid, 'SIGKILL');
      while (pgids.some((g) => liveMembers(g) > 0)) {
        if (performance.now() - killedAtPerf > 10_000) throw new Error('orphans: handler groups still alive 10 s after the kill');
        await sleep(1);
      }
      const goneMs = performance.now() - killedAtPerf;
      let restartMs = [];
      await until('every task running again', () => {
        const runs2 = ids.map((id) => JSON.parse(tasklock(db, ['--json', 'show', String(id)])).runs[1]);
        if (runs2.some((r) => r === undefined)) return false;
        restartMs = runs2.map((r) => Date.parse(r.startedAt) - killedAt);
        return true;
      }, 30_000);
      runs.push({ goneMs, lastRestartMs: Math.max(...restartMs) });
      log(`orphans: ${TASKS} handler groups gone ${goneMs.toFixed(1)} ms after the SIGKILL; all tasks running again after ${Math.max(...restartMs)} ms`);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      removeTempDir(dir);
    }
  }
  const gone = runs.map((r) => r.goneMs);
  const restart = runs.map((r) => r.lastRestartMs);
  return { tasks: TASKS, runs, medianGoneMs: median(gone), maxGoneMs: Math.max(...gone), medianRestartMs: median(restart), maxRestartMs: Math.max(...restart) };
}
