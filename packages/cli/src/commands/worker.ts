import type { Command } from 'commander';
import { resolve } from 'node:path';
import { BadInputError, Worker, type WorkerLogLevel, type WorkerOptions, type WorkerStats } from '@tasklock/core';
import { globalOptions, withQueue, type GlobalOptions } from '../context.js';
import { execHandler } from '../exec-handler.js';
import { bounded, loadModuleHandler } from '../handlers.js';
import { commaList, duration, positiveInteger } from '../options.js';
import { logLine, printJson, printLine } from '../output.js';
import { ShutdownSignals } from '../shutdown-signals.js';

interface WorkerFlags {
  exec?: string;
  handler?: string;
  concurrency?: number;
  types?: string[];
  queue?: string;
  lease?: number;
  heartbeat?: number;
  batch?: number;
  maxTasks?: number;
  untilEmpty?: boolean;
  untilEmptyWait?: number;
  workerId?: string;
  grace?: number;
  timeout?: number;
  workerRetention?: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run one worker process until stopped (SIGTERM/SIGINT: finish or hand back running tasks, exit 0)')
    .option('--exec <command>', 'run this shell command per task: payload JSON on stdin, stdout is the result')
    .option('--handler <module>', 'ESM module whose default export is async (payload, ctx) => result')
    .option('--concurrency <n>', 'tasks run at once (default 1)', positiveInteger)
    .option('--types <a,b>', 'only these task types', commaList)
    .option('--queue <name>', 'queue to take tasks from (default "default")')
    .option('--lease <ms>', 'lease length; heartbeats renew it (default 30s)', duration)
    .option('--heartbeat <ms>', 'heartbeat period (default lease / 3)', duration)
    .option('--batch <n>', 'tasks claimed per transaction (default = concurrency)', positiveInteger)
    .option('--max-tasks <n>', 'stop after claiming this many tasks', positiveInteger)
    .option('--until-empty', 'stop once nothing of this queue/types is due or running (tasks scheduled later than --until-empty-wait are left and counted)')
    .option('--until-empty-wait <duration>', 'with --until-empty: wait for scheduled tasks (retries in backoff, delayed tasks) due within this (default 30s; 0: do not wait)', duration)
    .option('--worker-id <id>', 'worker id (default host:pid:random)')
    .option('--grace <ms>', 'on stop, how long running tasks may finish before they are handed back (default 10s)', duration)
    .option('--timeout <ms>', 'default per-task timeout for tasks that have none', duration)
    .option('--worker-retention <duration>', 'the recovery sweep deletes rows of workers stopped or crashed longer ago than this (default 7d)', duration)
    .action(async (flags: WorkerFlags, command: Command) => {
      const globals = globalOptions(command);
      if ((flags.exec === undefined) === (flags.handler === undefined)) {
        throw new BadInputError('give exactly one of --exec <command> or --handler <module>');
      }
      if (flags.untilEmptyWait !== undefined && !flags.untilEmpty) throw new BadInputError('--until-empty-wait needs --until-empty');
      const signals = new ShutdownSignals(flags.grace ?? 10_000);
      try {
        const inner = flags.exec !== undefined ? await execHandler(flags.exec, resolve(globals.db)) : await loadModuleHandler(flags.handler!);
        const handler = bounded(inner, flags.timeout);
        const { id, stats, writes } = await withQueue(
          globals,
          async (queue) => {
            const worker = new Worker(queue, handler, workerOptions(flags, globals));
            const stats = await signals.run(worker);
            // This process's lock wait/hold and BUSY figures, for operators and the stress harness.
            return { id: worker.id, stats, writes: queue.db.metricsSnapshot() };
          },
          { create: true },
        );
        if (globals.json) printJson({ worker: id, stats, writes });
        else printLine(`worker ${id}: ${summary(stats)}`);
      } finally {
        signals.dispose();
      }
    });
}

function workerOptions(flags: WorkerFlags, globals: GlobalOptions): WorkerOptions {
  const options: WorkerOptions = {
    log: (level: WorkerLogLevel, message: string, fields?: Record<string, unknown>) => {
      if (level === 'debug' && !globals.verbose) return;
      const extra = globals.verbose && fields !== undefined ? ` ${JSON.stringify(fields)}` : '';
      logLine(`${new Date().toISOString()} ${level} ${message}${extra}`);
    },
  };
  if (flags.workerId !== undefined) options.id = flags.workerId;
  if (flags.queue !== undefined) options.queue = flags.queue;
  if (flags.types !== undefined) options.types = flags.types;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.batch !== undefined) options.batch = flags.batch;
  if (flags.lease !== undefined) options.leaseMs = flags.lease;
  if (flags.heartbeat !== undefined) options.heartbeatMs = flags.heartbeat;
  if (flags.maxTasks !== undefined) options.maxTasks = flags.maxTasks;
  if (flags.untilEmpty) options.untilEmpty = true;
  if (flags.untilEmptyWait !== undefined) options.untilEmptyWaitMs = flags.untilEmptyWait;
  if (flags.grace !== undefined) options.graceMs = flags.grace;
  if (flags.workerRetention !== undefined) options.workerRetentionMs = flags.workerRetention;
  return options;
}

function summary(stats: WorkerStats): string {
  return Object.entries(stats)
    .map(([name, value]) => `${value} ${name}`)
    .join(', ');
}
