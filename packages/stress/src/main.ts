#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { LOCK_STRATEGIES } from '@tasklock/core';
import { FAULT_ENGINE, FAULTS, type Fault } from './faults.js';
import { runStress, type Progress } from './harness.js';
import { formatReport } from './report.js';
import { isPostgres } from './run-database.js';

function integer(min: number) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return Number(value);
  };
}

function faultList(value: string): Fault[] {
  const faults = value.split(',').map((f) => f.trim()).filter(Boolean);
  for (const fault of faults) {
    if (!(FAULTS as readonly string[]).includes(fault)) throw new InvalidArgumentError(`unknown fault ${fault} (one of ${FAULTS.join(', ')})`);
  }
  return faults as Fault[];
}

const program = new Command('tasklock-stress')
  .description('Fork real tasklock workers and enqueuers on one database (SQLite or PostgreSQL), inject chaos and faults, then verify every invariant from the database.')
  .option('--db <path|url>', 'SQLite database file (default: a fresh temporary directory), or postgres://… of an empty database')
  .option('--pg-private', 'run on a PostgreSQL server of its own, started in a temporary directory and removed after (needed by pg-restart)')
  .option('--statement-timeout <ms>', 'PostgreSQL: the workers\' statement_timeout (their connection string\'s), which pg-timeout outlasts', integer(50), 1000)
  .requiredOption('--writers <n>', 'worker processes', integer(1))
  .requiredOption('--tasks <n>', 'tasks to enqueue (by enqueuer processes, while workers run)', integer(1))
  .option('--duration <s>', 'spread the enqueueing over this long, chaos throughout, then drain', integer(1))
  .option('--lock <strategy>', `SQLite's lock: ${['auto', ...LOCK_STRATEGIES].join(' | ')}`, 'auto')
  .option('--kill-every <ms>', 'SIGKILL a random worker about this often, its pid alone or its whole process group (and start a replacement)', integer(10))
  .option('--faults <list>', `comma-separated: ${FAULTS.join(', ')} (busy, full: SQLite only; pg-*: PostgreSQL only; pg-restart: --pg-private only)`, faultList, [])
  .option('--seed <n>', 'seed for the workload and chaos schedule (default: random, printed)', integer(0))
  .option('--concurrency <n>', 'handlers per worker', integer(1), 8)
  .option('--lease <ms>', 'worker lease', integer(200), 2000)
  .option('--enqueuers <n>', 'enqueuer processes', integer(1), 2)
  .option('--shell-workers <n>', 'workers running the shell queue with --exec (5 % of the tasks), besides the writers', integer(1), 2)
  .option('--json', 'print the report as JSON on stdout')
  .showHelpAfterError()
  .exitOverride();

try {
  program.parse();
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  process.exit(code === 0 ? 0 : 2);
}
const flags = program.opts<{
  db?: string; pgPrivate?: boolean; statementTimeout: number; writers: number; tasks: number; duration?: number; lock: string; killEvery?: number; faults: Fault[];
  seed?: number; concurrency: number; lease: number; enqueuers: number; shellWorkers: number; json?: boolean;
}>();
if (!['auto', ...LOCK_STRATEGIES].includes(flags.lock)) {
  process.stderr.write(`tasklock-stress: --lock must be one of ${['auto', ...LOCK_STRATEGIES].join(', ')}\n`);
  process.exit(2);
}
const engine = flags.pgPrivate || (flags.db !== undefined && isPostgres(flags.db)) ? 'postgres' : 'sqlite';
if (flags.pgPrivate && flags.db !== undefined) inputError('give --db or --pg-private, not both');
for (const fault of flags.faults) {
  const needs = FAULT_ENGINE[fault];
  if (needs !== undefined && needs !== engine) inputError(`fault ${fault} needs ${needs === 'sqlite' ? 'a SQLite database' : 'PostgreSQL (--db postgres://… or --pg-private)'}`);
}
if (flags.faults.includes('pg-restart') && !flags.pgPrivate) inputError('fault pg-restart needs --pg-private: the harness restarts only a server it started');
const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
process.stderr.write(`tasklock-stress: seed ${seed}\n`);
const tty = process.stderr.isTTY && !flags.json;
const onProgress = tty
  ? (p: Progress) => {
      const c = p.counts;
      process.stderr.write(`\r${(p.elapsedMs / 1000).toFixed(1)}s  pending ${c.pending}  running ${c.running}  succeeded ${c.succeeded}  failed ${c.failed}  kills ${p.kills}  workers ${p.live}   `);
    }
  : undefined;

try {
  const report = await runStress({
    db: flags.db ?? null,
    pgPrivate: flags.pgPrivate ?? false,
    statementTimeoutMs: flags.statementTimeout,
    writers: flags.writers,
    shellWorkers: flags.shellWorkers,
    tasks: flags.tasks,
    durationS: flags.duration ?? null,
    lock: flags.lock,
    killEveryMs: flags.killEvery ?? null,
    faults: flags.faults,
    seed,
    enqueuers: flags.enqueuers,
    concurrency: flags.concurrency,
    leaseMs: flags.lease,
    ...(onProgress ? { onProgress } : {}),
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  process.exit(report.passed ? 0 : 1);
} catch (error) {
  process.stderr.write(`tasklock-stress: ${(error as Error).message}\n`);
  process.exit((error as { code?: unknown }).code === 'bad-input' ? 2 : 1);
}

function inputError(message: string): never {
  process.stderr.write(`tasklock-stress: ${message}\n`);
  process.exit(2);
}
