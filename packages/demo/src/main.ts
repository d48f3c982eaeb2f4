/**
 * `pnpm demo`: several real worker processes drain a few thousand mixed tasks from one SQLite
 * file while one of them is SIGKILLed midway; then everything is checked.
 *
 *   node packages/demo/dist/main.js [--db .tasklock/demo.db] [--workers 3] [--tasks 3000]
 *
 * Exits 1 if any task is not terminal, ends other than its payload says, was completed twice,
 * or the database fails its integrity check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue, type QueueStats } from '@tasklock/core';
import { prepareDatabase } from './database.js';
import { tasklock, Workers } from './processes.js';
import { Progress } from './progress.js';
import { taskLines } from './tasks.js';
import { verify, type Tally } from './verify.js';

interface DemoOptions {
  /** Absent: the default .tasklock/demo.db, always recreated. */
  db: string | undefined;
  workers: number;
  tasks: number;
}

const CRASH_AT = 0.4;
const TICK_MS = 100;
const PRINT_EVERY_TICKS = 5;

function parseOptions(): DemoOptions {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      workers: { type: 'string', default: '3' },
      tasks: { type: 'string', default: '3000' },
    },
    strict: true,
  });
  const count = (name: string, text: string, min: number): number => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`);
    return value;
  };
  return { db: values.db, workers: count('workers', values.workers, 2), tasks: count('tasks', values.tasks, 100) };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const { db, logDir } = await prepareDatabase(options.db, options.db === undefined);
  console.log(`tasklock demo: ${options.tasks} tasks, ${options.workers} workers × 8 concurrent, database ${db}`);
  const init = await tasklock(['--db', db, '--json', 'init']);
  const { schemaVersion, lock } = JSON.parse(String(init.stdout)) as { schemaVersion: number; lock: { strategy: string } };
  console.log(`init: schema version ${schemaVersion}, lock strategy ${lock.strategy}`);

  const workers = new Workers(db, logDir);
  const queue = await Queue.open(db);
  try {
    for (let i = 0; i < options.workers; i += 1) workers.start();
    const started = performance.now();
    const enqueued = await tasklock(['--db', db, '--json', 'enqueue', '--file', '-'], taskLines(options.tasks));
    const ids = (JSON.parse(String(enqueued.stdout)) as { ids: number[] }).ids;
    console.log(`enqueued ${ids.length} tasks in one transaction (${Math.round(performance.now() - started)} ms)`);

    const { crashed, elapsedMs, drained } = await drive(queue, workers, options, started);
    const crashedSet = new Set(crashed === null ? [] : [crashed]);
    // A worker registers only once its signal handlers are in place; before that, SIGTERM
    // would kill a replacement that is still starting instead of stopping it.
    await untilRegistered(queue, workers.ids(crashedSet));
    const notClean = await workers.stop(crashedSet);
    const tally = await verify(queue, options.tasks, crashed);
    const doctor = await doctorReport(db);
    return report(options, tally, { crashed, elapsedMs, drained, notClean, doctor, logDir });
  } finally {
    queue.close();
    workers.killAll();
  }
}

/** Progress until every task is terminal; crashes one worker at CRASH_AT and starts a replacement. */
async function drive(queue: Queue, workers: Workers, options: DemoOptions, started: number) {
  const progress = new Progress(started);
  const deadline = started + 60_000 + options.tasks * 20;
  let crashed: string | null = null;
  let stats: QueueStats;
  for (let tick = 1; ; tick += 1) {
    stats = await queue.stats();
    const done = stats.counts.succeeded + stats.counts.failed + stats.counts.cancelled;
    if (tick % PRINT_EVERY_TICKS === 0) progress.update(stats);
    if (done === options.tasks) break;
    if (performance.now() > deadline) {
      progress.end();
      return { crashed, elapsedMs: performance.now() - started, drained: false };
    }
    if (crashed === null && done >= options.tasks * CRASH_AT) crashed = await crashBusiest(queue, workers, progress, done / options.tasks);
    await sleep(TICK_MS);
  }
  const elapsedMs = performance.now() - started;
  progress.update(stats, true);
  progress.end();
  return { crashed, elapsedMs, drained: true };
}

/** SIGKILLs the worker holding the most running tasks (so there is something to reclaim). */
async function crashBusiest(queue: Queue, workers: Workers, progress: Progress, fraction: number): Promise<string | null> {
  const holding = new Map<string, number>();
  for (const task of await queue.list({ status: 'running', limit: 10_000 })) {
    if (task.lockedBy !== null) holding.set(task.lockedBy, (holding.get(task.lockedBy) ?? 0) + 1);
  }
  const busiest = [...holding].sort((a, b) => b[1] - a[1])[0];
  if (busiest === undefined) return null; // nothing running this instant: try at the next tick
  const [id, count] = busiest;
  const pid = workers.pidOf(id);
  await workers.crash(id);
  const replacement = workers.start();
  progress.note(`  SIGKILLed worker ${id} (pid ${pid}) holding ${count} running task(s) at ${Math.round(fraction * 100)}% done; started ${replacement}`);
  return id;
}

async function untilRegistered(queue: Queue, ids: readonly string[]): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const live = new Set((await queue.workers()).filter((w) => w.stopped_at === null && w.crashed_at === null).map((w) => w.id));
    if (ids.every((id) => live.has(id))) return;
    await sleep(50);
  }
}

interface DoctorResult {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

async function doctorReport(db: string): Promise<DoctorResult> {
  // tasklock doctor exits 1 when a check fails; the JSON still says which.
  try {
    return JSON.parse(String((await tasklock(['--db', db, '--json', 'doctor'])).stdout)) as DoctorResult;
  } catch (error) {
    const text = (error as Error).message;
    return { ok: false, checks: [{ name: 'doctor', ok: false, detail: text }] };
  }
}

function report(
  options: DemoOptions,
  tally: Tally,
  run: { crashed: string | null; elapsedMs: number; drained: boolean; notClean: string[]; doctor: DoctorResult; logDir: string },
): number {
  const problems = [...tally.problems];
  if (!run.drained) problems.unshift(`not every task finished within the deadline`);
  for (const worker of run.notClean) problems.push(`worker ${worker} did not exit 0 on SIGTERM`);
  const integrity = run.doctor.checks.find((check) => check.name === 'integrity');
  if (!integrity?.ok) problems.push(`integrity: ${integrity?.detail ?? 'not checked'}`);
  for (const check of run.doctor.checks.filter((c) => !c.ok && c.name !== 'integrity')) problems.push(`doctor ${check.name}: ${check.detail}`);

  const seconds = run.elapsedMs / 1000;
  const { byStatus, byKind } = tally;
  const kinds = (status: 'succeeded' | 'failed') =>
    Object.entries(byKind)
      .filter(([, counts]) => (counts[status] ?? 0) > 0)
      .map(([kind, counts]) => `${kind} ${counts[status]}`)
      .join(', ');
  console.log('');
  console.log(`${tally.total} tasks in ${seconds.toFixed(1)} s: ${Math.round(tally.total / seconds)} tasks/s with ${options.workers} workers`);
  console.log(`  terminal     ${byStatus.succeeded + byStatus.failed + byStatus.cancelled} of ${tally.total} (pending ${byStatus.pending}, running ${byStatus.running})`);
  console.log(`  succeeded    ${byStatus.succeeded} (${kinds('succeeded')})`);
  console.log(`  failed       ${byStatus.failed} (${kinds('failed') || 'none'}; doomed tasks are meant to fail)`);
  console.log(`  retries      ${tally.retries} failed attempt(s) went back to pending after a 50 ms backoff`);
  console.log(
    run.crashed === null
      ? '  reclaimed    - (no worker was crashed: none held a running task after 40 %)'
      : `  reclaimed    ${tally.reclaimedFromCrashed} task(s) from crashed worker ${run.crashed} ('reclaim' events), ${tally.reclaimedFinished} then finished elsewhere`,
  );
  console.log(`  integrity    ${integrity?.detail ?? '-'}; doctor: ${run.doctor.checks.filter((c) => c.ok).length} of ${run.doctor.checks.length} checks ok`);
  console.log(`  worker logs  ${run.logDir}/demo-*.log`);
  if (problems.length === 0) {
    console.log('OK: every task ended as its payload said, none twice, and the database is intact');
    return 0;
  }
  console.log(`NOT OK: ${problems.length} problem(s)`);
  for (const problem of problems.slice(0, 20)) console.log(`  - ${problem}`);
  if (problems.length > 20) console.log(`  … and ${problems.length - 20} more`);
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
