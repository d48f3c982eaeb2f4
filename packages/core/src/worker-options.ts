/**
 * A worker's options: what each means, its default, and the one place they are checked (with
 * validate.ts's helpers, as the queue checks its own inputs).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BadInputError } from './errors.js';
import { DEFAULT_WORKER_RETENTION_MS } from './reclaim.js';
import { integerAtLeast, isName, MIN_LEASE_MS } from './validate.js';

export type WorkerLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type WorkerLog = (level: WorkerLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface WorkerOptions {
  id?: string;
  queue?: string;
  types?: readonly string[] | null;
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Tasks claimed per transaction (default = concurrency). */
  batch?: number;
  leaseMs?: number;
  /** Default leaseMs / 3. */
  heartbeatMs?: number;
  /**
   * How long this worker's heartbeat may be silent before a sweep on another host counts it dead
   * and takes its tasks back (default leaseMs, or 2 × heartbeatMs if that is longer; at least 2 × heartbeatMs, so one late heartbeat is
   * not a death). Stored with the worker, so every host judges it by its own setting. On the
   * worker's own host its pid decides instead, at once.
   */
  deadAfterMs?: number;
  /** Longest idle sleep between checks when no wake-up arrives (default 250 ms). */
  maxPollMs?: number;
  /** How often the sweep takes back tasks of dead workers and expired leases (default 500 ms). */
  reclaimEveryMs?: number;
  /** The sweep deletes rows of workers stopped or crashed longer ago than this (default 7 days). */
  workerRetentionMs?: number;
  /** Stop after claiming this many tasks. */
  maxTasks?: number;
  /**
   * Stop once nothing of this queue/types is due or running, and nothing scheduled comes due
   * within untilEmptyWaitMs. Tasks scheduled later are left pending and counted in `scheduled`.
   */
  untilEmpty?: boolean;
  /**
   * With untilEmpty: wait for scheduled tasks due within this long (default 30 s): a retry in its
   * backoff is part of draining, a task delayed by hours is not. 0: stop as soon as nothing is due.
   */
  untilEmptyWaitMs?: number;
  /**
   * ctx.progress writes at most once per this long per task (default 250 ms); the last value is
   * always written, at the latest with the attempt's outcome. ctx.count's deltas go with those
   * writes, or every heartbeatMs when no progress is reported.
   */
  progressEveryMs?: number;
  /** How long a graceful stop waits for running handlers before handing their tasks back. */
  graceMs?: number;
  /** Default: warnings and errors to stderr, one line each (warningsToStderr); pass `() => {}` for silence. */
  log?: WorkerLog;
}

/** Every option resolved to its value. */
export interface WorkerSettings {
  id: string;
  queue: string;
  /** null: every type. Never mutated (the store keys its cached encoding by this array). */
  types: readonly string[] | null;
  concurrency: number;
  batch: number;
  leaseMs: number;
  heartbeatMs: number;
  deadAfterMs: number;
  maxPollMs: number;
  reclaimEveryMs: number;
  workerRetentionMs: number;
  maxTasks: number;
  untilEmpty: boolean;
  untilEmptyWaitMs: number;
  graceMs: number;
  progressEveryMs: number;
  log: WorkerLog;
}

export function resolveWorkerOptions(options: WorkerOptions): WorkerSettings {
  const int = (name: string, value: number | undefined, fallback: number, min: number) => integerAtLeast(`worker ${name}`, value ?? fallback, min);
  const concurrency = int('concurrency', options.concurrency, 1, 1);
  const leaseMs = int('leaseMs', options.leaseMs, 30_000, MIN_LEASE_MS);
  const heartbeatMs = int('heartbeatMs', options.heartbeatMs, Math.max(50, Math.floor(leaseMs / 3)), 10);
  if (heartbeatMs >= leaseMs) throw new BadInputError('worker heartbeatMs must be shorter than leaseMs');
  const deadAfterMs = int('deadAfterMs', options.deadAfterMs, Math.max(leaseMs, 2 * heartbeatMs), 1);
  if (deadAfterMs < 2 * heartbeatMs) {
    throw new BadInputError(`worker deadAfterMs must be at least 2 × heartbeatMs (${2 * heartbeatMs} ms), got ${deadAfterMs}: one late heartbeat is not a death`);
  }
  const queue = options.queue ?? 'default';
  if (!isName(queue)) throw new BadInputError(`worker queue must be 1-200 characters of [A-Za-z0-9_.:/@-], got ${JSON.stringify(queue)}`);
  const types = options.types && options.types.length > 0 ? Object.freeze([...options.types]) : null;
  for (const type of types ?? []) {
    if (!isName(type)) throw new BadInputError(`worker type must be 1-200 characters of [A-Za-z0-9_.:/@-], got ${JSON.stringify(type)}`);
  }
  return {
    id: options.id ?? defaultWorkerId(),
    queue,
    types,
    concurrency,
    batch: int('batch', options.batch, concurrency, 1),
    leaseMs,
    heartbeatMs,
    deadAfterMs,
    maxPollMs: int('maxPollMs', options.maxPollMs, 250, 1),
    reclaimEveryMs: int('reclaimEveryMs', options.reclaimEveryMs, 500, 1),
    workerRetentionMs: int('workerRetentionMs', options.workerRetentionMs, DEFAULT_WORKER_RETENTION_MS, 0),
    maxTasks: options.maxTasks === undefined ? Number.POSITIVE_INFINITY : int('maxTasks', options.maxTasks, 1, 1),
    untilEmpty: options.untilEmpty ?? false,
    untilEmptyWaitMs: int('untilEmptyWaitMs', options.untilEmptyWaitMs, 30_000, 0),
    graceMs: int('graceMs', options.graceMs, 10_000, 0),
    progressEveryMs: int('progressEveryMs', options.progressEveryMs, 250, 1),
    log: options.log ?? warningsToStderr,
  };
}

/**
 * The log of a worker given none: warnings and errors (every failed attempt among them), one line
 * each on stderr. Silent by default would hide a throwing handler from a library user.
 */
export function warningsToStderr(level: WorkerLogLevel, message: string): void {
  if (level === 'warn' || level === 'error') process.stderr.write(`tasklock ${level}: ${message}\n`);
}

/** host:pid:random — unique across hosts and restarts, and it says where to look. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
