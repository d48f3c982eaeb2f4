import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { BadInputError, defaultWorkerId, Worker, type WorkerOptions, type WorkerStats } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { execHandler } from '../exec-handler.js';
import { bounded, currentTask, loadModuleHandler } from '../handlers.js';
import { commaList, duration, positiveInteger } from '../options.js';
import { printJson, printLine, redirectConsoleOutput } from '../output.js';
import { ShutdownSignals } from '../shutdown-signals.js';
import { createWorkerLogger, LOG_FORMATS, type LogFormat, type WorkerLogger } from '../worker-log.js';

interface WorkerFlags {
  exec?: string;
  handler?: string;
  concurrency?: number;
  types?: string[];
  queue?: string;
  lease?: number;
  heartbeat?: number;
  deadAfter?: number;
  batch?: number;
  maxTasks?: number;
  untilEmpty?: boolean;
  untilEmptyWait?: number;
  workerId?: string;
  grace?: number;
  waitForStore?: boolean;
  timeout?: number;
  workerRetention?: number;
  logFormat: LogFormat;
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
    .option('--dead-after <ms>', "how long this worker's heartbeat may be silent before another host's sweep counts it dead (default: the lease)", duration)
    .option('--batch <n>', 'tasks claimed per transaction (default = concurrency)', positiveInteger)
    .option('--max-tasks <n>', 'stop after claiming this many tasks', positiveInteger)
    .option('--until-empty', 'stop once nothing of this queue/types is due or running (tasks scheduled later than --until-empty-wait are left and counted)')
    .option('--until-empty-wait <duration>', 'with --until-empty: wait for scheduled tasks (retries in backoff, delayed tasks) due within this (default 30s; 0: do not wait)', duration)
    .option('--worker-id <id>', 'worker id (default host:pid:random)')
    .option('--grace <ms>', 'on stop, how long running tasks may finish before they are handed back (default 10s)', duration)
    .option('--wait-for-store', 'if the store cannot be reached at start (a server still starting), wait for it with backoff, logged once, instead of exiting 1')
    .option('--timeout <ms>', 'default per-task timeout for tasks that have none', duration)
    .option('--worker-retention <duration>', 'the reclaim sweep deletes rows of workers stopped or crashed longer ago than this (default 7d)', duration)
    .addOption(
      new Option('--log-format <format>', 'log lines on stderr: text, or json (one object per line: time, level, worker, taskId, msg)')
        .choices(LOG_FORMATS)
        .default('text'),
    )
    .action(async (flags: WorkerFlags, command: Command) => {
      const globals = globalOptions(command);
      if ((flags.exec === undefined) === (flags.handler === undefined)) {
        throw new BadInputError('give exactly one of --exec <command> or --handler <module>');
      }
      if (flags.untilEmptyWait !== undefined && !flags.untilEmpty) throw new BadInputError('--until-empty-wait needs --until-empty');
      const workerId = flags.workerId ?? defaultWorkerId();
      // Signals first (a SIGTERM while pino loads must stop the worker, not kill it); their
      // lines go to the logger once it exists.
      let logger: WorkerLogger | undefined;
      const signals = new ShutdownSignals(flags.grace ?? 10_000, (level, message, fields) => logger?.log(level, message, fields));
      let restoreConsole = (): void => undefined;
      let result;
      try {
        const log = await createWorkerLogger(flags.logFormat, workerId, globals.verbose);
        logger = log;
        // stdout carries the summary and nothing else (`worker --json | jq` must parse): from
        // here on, what handler code prints — at import or per task — goes to the log.
        restoreConsole = handlerOutputToLog(log);
        const inner = flags.exec !== undefined ? await execHandler(flags.exec, resolve(globals.db)) : await loadModuleHandler(flags.handler!);
        const handler = bounded(inner, flags.timeout);
        result = await withQueue(
          globals,
          async (queue) => {
            const worker = new Worker(queue, handler, workerOptions(flags, workerId, log));
            const stats = await signals.run(worker);
            // This process's lock wait/hold and BUSY figures, for operators and the stress harness.
            return { stats, writes: queue.writeMetrics() };
          },
          { create: true, ...(flags.waitForStore ? { waitForStore: { log: log.log, giveUp: () => signals.stopping } } : {}) },
        );
      } finally {
        signals.dispose();
        restoreConsole();
      }
      if (globals.json) printJson({ worker: workerId, stats: result.stats, writes: result.writes });
      else printLine(`worker ${workerId}: ${summary(result.stats)}`);
    });
}

/**
 * Handler output (console.*, process.stdout.write) into the worker's log. The text format passes
 * stderr through untouched and moves stdout over to it; the json format turns both into records.
 */
function handlerOutputToLog(logger: WorkerLogger): () => void {
  return redirectConsoleOutput(
    (text) => logger.handlerOutput('stdout', text, currentTask.getStore()),
    logger.format === 'json' ? (text) => logger.handlerOutput('stderr', text, currentTask.getStore()) : undefined,
  );
}

function workerOptions(flags: WorkerFlags, workerId: string, logger: WorkerLogger): WorkerOptions {
  const options: WorkerOptions = { id: workerId, log: logger.log };
  if (flags.queue !== undefined) options.queue = flags.queue;
  if (flags.types !== undefined) options.types = flags.types;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.batch !== undefined) options.batch = flags.batch;
  if (flags.lease !== undefined) options.leaseMs = flags.lease;
  if (flags.heartbeat !== undefined) options.heartbeatMs = flags.heartbeat;
  if (flags.deadAfter !== undefined) options.deadAfterMs = flags.deadAfter;
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
