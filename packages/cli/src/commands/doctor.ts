import type { Command } from 'commander';
import type { DiagnosisCheck, Queue } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine } from '../output.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the database and its surroundings; exit 1 (saying what to do) when something is wrong')
    .action(async (_flags: object, command: Command) => {
      const globals = globalOptions(command);
      const checks = await withQueue(globals, (queue) => runChecks(queue, globals.db));
      const ok = checks.every((check) => check.ok);
      if (globals.json) printJson({ ok, checks });
      else for (const check of checks) printLine(`${label(check)}  ${check.name.padEnd(12)} ${check.detail}`);
      if (!ok) {
        const failed = checks.filter((check) => !check.ok).map((check) => check.name);
        throw new Error(`doctor: ${failed.length} check(s) failed: ${failed.join(', ')}`);
      }
    });
}

function label(check: DiagnosisCheck): string {
  if (!check.ok) return 'FAIL';
  return check.warning ? 'warn' : 'ok  ';
}

/** The store's own checks (`queue.diagnose()`), then the queue's: leases and workers. */
async function runChecks(queue: Queue, dbAsGiven: string): Promise<DiagnosisCheck[]> {
  return [...(await queue.diagnose({ locationAsGiven: dbAsGiven })), ...(await taskChecks(queue))];
}

async function taskChecks(queue: Queue): Promise<DiagnosisCheck[]> {
  const stats = await queue.stats();
  const workers = await queue.workers();
  // Stopped gracefully or already found crashed by a sweep: ended, nothing left to reclaim.
  const running = workers.filter((w) => w.stopped_at === null && w.crashed_at === null);
  const dead = running.filter((w) => w.alive === false);
  const live = running.filter((w) => w.alive !== false);
  return [
    stats.overdueLeases === 0
      ? { name: 'leases', ok: true, detail: `no running task is past its lease (${stats.counts.running} running)` }
      : { name: 'leases', ok: false, detail: `${stats.overdueLeases} running task(s) past their lease — run tasklock reclaim (or start a worker: workers reclaim them)` },
    dead.length === 0
      ? { name: 'workers', ok: true, detail: `${live.length} live, ${workers.length - live.length} stopped, or crashed and reclaimed` }
      : { name: 'workers', ok: false, detail: `${dead.length} dead worker(s) not yet reclaimed (${dead.map((w) => w.id).join(', ')}) — run tasklock reclaim` },
  ];
}
