import { execa, execaSync, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, TasklockError } from '@tasklock/core';
import { checkRun, type CheckResult } from './checker.js';
import { inject, STALLING_FAULTS, type Fault, type FaultRecord } from './faults.js';
import { CLI, Fleet, type UnexpectedExit } from './fleet.js';
import { preparePostgres, type PostgresRun } from './postgres-run.js';
import { Random } from './random.js';
import { readTimings } from './timings.js';

export interface StressOptions {
  /** A SQLite file, or a postgres:// URL of an empty database (null: a fresh SQLite file, or with pgPrivate a server of its own). */
  db: string | null;
  /** Start a PostgreSQL server of its own for the run (needed by the pg-restart fault). */
  pgPrivate: boolean;
  /** PostgreSQL: the workers' statement_timeout (their connection string's), which pg-timeout outlasts. */
  statementTimeoutMs: number;
  writers: number;
  /** Workers running the shell queue's tasks with --exec (besides the `writers`). */
  shellWorkers: number;
  tasks: number;
  durationS: number | null;
  lock: string;
  killEveryMs: number | null;
  faults: Fault[];
  seed: number;
  enqueuers: number;
  concurrency: number;
  leaseMs: number;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  elapsedMs: number;
  counts: Record<string, number>;
  kills: number;
  live: number;
}

export interface StressReport {
  seed: number;
  db: string;
  lock: string;
  writers: number;
  shellWorkers: number;
  tasks: number;
  elapsedMs: number;
  kills: number;
  /** Of the kills, those of the worker's whole process group (the others: its pid alone). */
  groupKills: number;
  faults: FaultRecord[];
  throughput: { claimedPerS: number; completedPerS: number };
  latencyMs: { enqueueToStartP50: number; enqueueToStartP99: number };
  lock_: { waitP50: number; waitP99: number; waitMax: number; holdP50: number; holdP99: number; busyRetries: number; fromWorkers: number };
  walPeakBytes: number;
  workerPeakRssBytes: number;
  /** Outages the workers that stopped cleanly rode out (the store unreachable, logged once each), and the calls retried in them. */
  storeOutages: { outages: number; retries: number; fromWorkers: number; logged: { began: number; ended: number; workers: number } };
  /** Workers that exited without being killed or stopped by the harness (each was replaced). */
  unexpectedExits: UnexpectedExit[];
  check: CheckResult;
  passed: boolean;
}

const ENQUEUER = fileURLToPath(new URL('./enqueuer.js', import.meta.url));

/**
 * One stress run: real `tasklock worker` processes drain tasks that enqueuer processes add
 * concurrently, while chaos SIGKILLs workers and faults are injected; then everything drains,
 * and the checker verifies the invariants from the database file and the side-effect log.
 */
export async function runStress(options: StressOptions): Promise<StressReport> {
  const random = new Random(options.seed);
  const postgres = await preparePostgres(options);
  const { dir, logs, db, smallFilesystem } = prepareDirectory(options, postgres);
  // The side-effect log, the lock audit and the id lists live apart from the database, so the
  // `full` fault fills only the database's filesystem, never the checker's evidence.
  const effects = join(logs, 'effects.log');
  const audit = join(logs, 'lock.audit');
  const env = { TASKLOCK_STRESS_EFFECTS: effects, TASKLOCK_LOCK_AUDIT: audit };
  const init = await execa(process.execPath, [CLI, 'init', '--db', db, '--lock', options.lock, '--json'], { env, reject: false });
  if (init.exitCode !== 0) throw new Error(`tasklock init failed: ${init.stderr.trim()}`);
  const lockStrategy = (JSON.parse(init.stdout) as { lock: { strategy: string } }).lock.strategy;

  const fleet = new Fleet({
    db, lock: options.lock, env, concurrency: options.concurrency, leaseMs: options.leaseMs, graceMs: 2000,
    ...(postgres ? { workerDb: postgres.workerUrl } : {}),
  });
  const kills = new Map<string, number>();
  let groupKills = 0;
  /** While the server restarts, no worker is started: one cannot open a store it cannot reach (it would exit 1). */
  let restarting = false;
  const faults: FaultRecord[] = [];
  const started = Date.now();
  for (let i = 0; i < options.writers; i += 1) fleet.start();
  for (let i = 0; i < options.shellWorkers; i += 1) fleet.start('shell');

  const perEnqueuer = Math.ceil(options.tasks / options.enqueuers);
  const idsFiles: string[] = [];
  // Tasks a fault enqueues (orphans) are recorded like an enqueuer's, after their commit.
  const faultIds = join(logs, 'ids-faults.txt');
  idsFiles.push(faultIds);
  const enqueuers: ResultPromise[] = [];
  for (let i = 0; i < options.enqueuers; i += 1) {
    const count = Math.min(perEnqueuer, options.tasks - i * perEnqueuer);
    if (count <= 0) break;
    const ids = join(logs, `ids-${i}.txt`);
    idsFiles.push(ids);
    const spreadMs = options.durationS === null ? 0 : Math.floor(options.durationS * 1000 * 0.9);
    enqueuers.push(execa(process.execPath, [ENQUEUER, db, options.lock, String(count), String(options.seed + i + 1), ids, String(spreadMs)], { env, reject: false }));
  }

  const observer = await Queue.open(db, { sqlite: { lock: options.lock as 'auto' } });
  let walPeakBytes = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    fleet.sampleRss();
    // statSync does not open the file, so it cannot drop anyone's SQLite locks.
    if (existsSync(`${db}-wal`)) walPeakBytes = Math.max(walPeakBytes, statSync(`${db}-wal`).size);
    void observer
      .stats()
      .then(({ counts }) => options.onProgress?.({ elapsedMs: Date.now() - started, counts, kills: kills.size, live: fleet.live.length }))
      .catch(() => undefined) // the store away (a fault): this sample is skipped, the next one tries again
      .finally(() => (sampling = false));
  }, 250);

  let chaosOn = true;
  const chaos = (async () => {
    if (options.killEveryMs === null) return;
    while (chaosOn) {
      await new Promise((r) => setTimeout(r, options.killEveryMs! * (0.5 + random.next())));
      if (!chaosOn) break;
      const victim = random.pick(fleet.live);
      if (!victim || restarting) continue;
      const group = random.next() < 0.5;
      fleet.kill(victim, 'SIGKILL', group);
      if (group) groupKills += 1;
      kills.set(victim.id, victim.killedAt!);
      fleet.start(victim.kind);
    }
  })();
  const faultsUntil = options.durationS === null ? 0 : started + options.durationS * 1000;
  const faultLoop = (async () => {
    // Each fault once; in a --duration run, round after round until the duration is over.
    do {
      for (const fault of options.faults) {
        await new Promise((r) => setTimeout(r, faultsUntil === 0 ? random.int(200, 800) : random.int(2000, 8000)));
        if (faultsUntil !== 0 && Date.now() > faultsUntil) break;
        restarting = fault === 'pg-restart';
        try {
          const record = await inject(fault, { db, dir, lock: options.lock, env, fleet, random, leaseMs: options.leaseMs, smallFilesystem, queue: observer, kills, idsFile: faultIds, pg: postgres?.faults ?? null });
          faults.push({ ...record, endedAt: Date.now() });
        } finally {
          restarting = false;
        }
      }
    } while (options.faults.length > 0 && Date.now() < faultsUntil);
  })();

  try {
    const enqueued = await Promise.all(enqueuers);
    for (const result of enqueued) if (result.exitCode !== 0) throw new Error(`enqueuer failed: ${String(result.stderr).trim()}`);
    await faultLoop;
    const deadline = options.durationS === null ? null : started + options.durationS * 1000;
    // Chaos goes on for the whole --duration (or until the queue drains), then stops.
    while (!(await drained(observer)) && (deadline === null || Date.now() < deadline)) await new Promise((r) => setTimeout(r, 100));
    if (deadline !== null) while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    chaosOn = false;
    await chaos;
    // Drain without chaos: every task must reach a terminal state.
    const drainDeadline = Date.now() + Math.max(60_000, options.leaseMs * 10);
    while (!(await drained(observer))) {
      if (Date.now() > drainDeadline) break;
      if (!fleet.live.some((w) => w.kind === 'module')) fleet.start();
      if (options.shellWorkers > 0 && !fleet.live.some((w) => w.kind === 'shell')) fleet.start('shell');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    chaosOn = false;
    clearInterval(sampler);
    await fleet.stop();
    observer.close();
  }

  const elapsedMs = Date.now() - started;
  try {
    const check = await checkRun({
      db, idsFiles, effectsFile: effects, auditFile: audit, lockStrategy, audited: postgres === null, kills,
      recoveryBoundMs: recoveryBoundMs(options.leaseMs, lockStrategy),
      stalls: faults.filter((f) => STALLING_FAULTS.includes(f.fault) && !f.skipped).map((f) => ({ from: f.at, to: f.endedAt ?? f.at })),
    });
    return await report({ options, db: postgres?.shownUrl ?? db, location: db, lockStrategy, elapsedMs, kills: kills.size, groupKills, faults, walPeakBytes, fleet, check });
  } finally {
    // The tmpfs of a `full` run goes with its contents; the report has what it showed.
    if (smallFilesystem) execaSyncQuiet('umount', [dir]);
    postgres?.close();
  }
}

/**
 * How long a dead worker's task may stay `running`: a lease (when its death is only seen as an
 * expired lease), plus two reclaim sweeps and scheduling slack; with proper-lockfile, plus the
 * lock's stale time, during which a holder SIGKILLed inside the lock blocks every writer.
 */
function recoveryBoundMs(leaseMs: number, lockStrategy: string): number {
  return leaseMs + 2000 + (lockStrategy === 'lockfile' ? LOCKFILE_STALE_MS : 0);
}

/** The CLI's default proper-lockfile stale time (openDatabase's lockStaleMs). */
const LOCKFILE_STALE_MS = 10_000;

async function drained(queue: Queue): Promise<boolean> {
  let counts: Record<string, number>;
  try {
    ({ counts } = await queue.stats());
  } catch (error) {
    // The store away for a moment (a restart, a cut connection): not drained yet, look again.
    if (error instanceof TasklockError && error.code === 'persistence') return false;
    throw error;
  }
  // Scheduled ones too: a retry waiting out its backoff is work still to be done.
  return counts.pending === 0 && counts.scheduled === 0 && counts.running === 0;
}

function prepareDirectory(options: StressOptions, postgres: PostgresRun | null): { dir: string; logs: string; db: string; smallFilesystem: boolean } {
  const logs = mkdtempSync(join(tmpdir(), 'tasklock-stress-'));
  if (postgres !== null) return { dir: logs, logs, db: postgres.url, smallFilesystem: false };
  if (options.db !== null) {
    const db = resolve(options.db);
    mkdirSync(dirname(db), { recursive: true });
    return { dir: dirname(db), logs, db, smallFilesystem: false };
  }
  const dir = join(logs, 'db');
  mkdirSync(dir);
  // A 256 MiB tmpfs of our own, so the `full` fault can fill a real filesystem (root only).
  const smallFilesystem = options.faults.includes('full') && process.getuid?.() === 0 && execaSyncQuiet('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', dir]);
  return { dir, logs, db: join(dir, 'stress.db'), smallFilesystem };
}

function execaSyncQuiet(file: string, args: string[]): boolean {
  try {
    return execaSync(file, args, { reject: false }).exitCode === 0;
  } catch {
    return false;
  }
}

async function report(input: {
  options: StressOptions; db: string; location: string; lockStrategy: string; elapsedMs: number; kills: number; groupKills: number; faults: FaultRecord[];
  walPeakBytes: number; fleet: Fleet; check: CheckResult;
}): Promise<StressReport> {
  const { check, fleet } = input;
  const summaries = fleet.summaries().filter((s) => s.writes);
  const pick = (f: (w: NonNullable<(typeof summaries)[number]['writes']>) => number) => summaries.map((s) => f(s.writes!));
  const max = (xs: number[]) => (xs.length === 0 ? 0 : Math.max(...xs));
  const facts = await readTimings(input.location);
  const stopped = input.fleet.summaries();
  return {
    seed: input.options.seed,
    db: input.db,
    lock: input.lockStrategy,
    writers: input.options.writers,
    shellWorkers: input.options.shellWorkers,
    tasks: input.options.tasks,
    elapsedMs: input.elapsedMs,
    kills: input.kills,
    groupKills: input.groupKills,
    faults: input.faults,
    throughput: { claimedPerS: facts.claims / (facts.spanMs / 1000 || 1), completedPerS: facts.completes / (facts.spanMs / 1000 || 1) },
    latencyMs: { enqueueToStartP50: facts.startP50, enqueueToStartP99: facts.startP99 },
    lock_: {
      waitP50: max(pick((w) => w.lockWaitMs.p50)),
      waitP99: max(pick((w) => w.lockWaitMs.p99)),
      waitMax: max(pick((w) => w.lockWaitMs.max)),
      holdP50: max(pick((w) => w.lockHoldMs.p50)),
      holdP99: max(pick((w) => w.lockHoldMs.p99)),
      busyRetries: pick((w) => w.busyRetries).reduce((a, b) => a + b, 0),
      fromWorkers: summaries.length,
    },
    walPeakBytes: input.walPeakBytes,
    workerPeakRssBytes: fleet.peakRssBytes,
    storeOutages: {
      outages: stopped.reduce((sum, s) => sum + (s.stats.storeOutages ?? 0), 0),
      retries: stopped.reduce((sum, s) => sum + (s.stats.storeRetries ?? 0), 0),
      fromWorkers: stopped.length,
      logged: fleet.outageLines(),
    },
    unexpectedExits: fleet.unexpectedExits,
    check,
    passed: check.invariants.every((i) => i.status !== 'FAIL'),
  };
}

