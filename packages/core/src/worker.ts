import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorSummary, errorText, firstLine } from './error-text.js';
import { BadInputError, isTransientWriteError, TasklockError } from './errors.js';
import { DEFAULT_WORKER_RETENTION_MS, type Lease, type Outcome, type Queue } from './queue.js';
import { backoffMs } from './backoff.js';
import type { TaskStatus } from './task-state.js';
import { toJsonText, type ClaimedTask } from './task.js';
import type { ChangeSignal } from './storage/store.js';
import { WorkerFinisher } from './worker-finisher.js';

/** A handler group's record that met a full disk or a busy lock is tried again: ~10 ms, doubling, up to 1 s. */
const RECORD_BACKOFF = { baseDelayMs: 10, maxDelayMs: 1000 };

/** A worker that cannot register yet (disk full, lock busy) tries again: 20 ms, doubling, up to 2 s. */
const REGISTER_BACKOFF = { baseDelayMs: 20, maxDelayMs: 2000, jitter: false };

export interface TaskContext {
  task: ClaimedTask;
  id: number;
  attempt: number;
  /** Aborts on cancel, lease loss, the task's timeout, or a shutdown past the grace period. */
  signal: AbortSignal;
  /** Extends this task's lease now and records progress; rejects with LeaseLostError if gone. */
  heartbeat(progress?: unknown): Promise<void>;
  /**
   * Records the process group this attempt's handler started (once per attempt). Should this
   * worker die while the group runs, the recovery sweep on this host kills the group and waits
   * for it to be gone before the task runs again. Rejects with LeaseLostError if the lease is
   * gone: the caller must then kill the group itself.
   */
  registerProcessGroup(pgid: number): Promise<void>;
}

export type TaskHandler = (payload: unknown, context: TaskContext) => unknown;

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
  /** Longest idle sleep between checks when no wake-up arrives (default 250 ms). */
  maxPollMs?: number;
  /** Expired-lease and dead-owner sweep period (default 500 ms). */
  recoverEveryMs?: number;
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
  /** How long a graceful stop waits for running handlers before handing their tasks back. */
  graceMs?: number;
  log?: WorkerLog;
}

export interface WorkerStats {
  claimed: number;
  succeeded: number;
  failed: number;
  retried: number;
  released: number;
  /** Outcomes the fence refused: the lease had been reclaimed or the task cancelled. */
  rejected: number;
  /** Handlers aborted because their task was cancelled or their lease lost. */
  aborted: number;
  recovered: number;
  /** Transactions that failed to persist outcomes (each retried). */
  persistFailures: number;
  /** untilEmpty: tasks of this queue/types left scheduled (not due within the wait) when it stopped. */
  scheduled: number;
}

interface Running {
  task: ClaimedTask;
  controller: AbortController;
  /** Why the attempt is no longer ours; set once, and no outcome is written after it. */
  lost: string | null;
  settled: Promise<void>;
}

/**
 * Runs a handler for claimed tasks. The worker holds no authoritative state: a task it runs is
 * `running` in the database under its lease, and what it learns (finished, failed, lost) is
 * applied in memory only after the database accepted it.
 */
export class Worker {
  readonly id: string;
  private readonly options: Required<Omit<WorkerOptions, 'id' | 'types' | 'maxTasks' | 'log'>> & {
    types: readonly string[] | null;
    maxTasks: number;
  };
  private readonly log: WorkerLog;
  private readonly running = new Map<number, Running>();
  private readonly finisher: WorkerFinisher;
  private readonly wake: ChangeSignal;
  private readonly counters: WorkerStats = {
    claimed: 0, succeeded: 0, failed: 0, retried: 0, released: 0, rejected: 0, aborted: 0, recovered: 0, persistFailures: 0,
    scheduled: 0,
  };
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  private recovering = false;
  private beating = false;
  private done: Promise<WorkerStats> | null = null;
  /** Timer-driven writes still running: shutdown waits for them before the queue may close. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly queue: Queue,
    private readonly handler: TaskHandler,
    options: WorkerOptions = {},
  ) {
    const concurrency = options.concurrency ?? 1;
    const leaseMs = options.leaseMs ?? 30_000;
    this.options = {
      queue: options.queue ?? 'default',
      types: options.types && options.types.length > 0 ? [...options.types] : null,
      concurrency,
      batch: options.batch ?? concurrency,
      leaseMs,
      heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3)),
      maxPollMs: options.maxPollMs ?? 250,
      recoverEveryMs: options.recoverEveryMs ?? 500,
      workerRetentionMs: options.workerRetentionMs ?? DEFAULT_WORKER_RETENTION_MS,
      maxTasks: options.maxTasks ?? Number.POSITIVE_INFINITY,
      untilEmpty: options.untilEmpty ?? false,
      untilEmptyWaitMs: options.untilEmptyWaitMs ?? 30_000,
      graceMs: options.graceMs ?? 10_000,
    };
    for (const [name, value, min] of [
      ['concurrency', concurrency, 1],
      ['batch', this.options.batch, 1],
      ['leaseMs', leaseMs, 100],
      ['heartbeatMs', this.options.heartbeatMs, 10],
      ['graceMs', this.options.graceMs, 0],
      ['workerRetentionMs', this.options.workerRetentionMs, 0],
      ['untilEmptyWaitMs', this.options.untilEmptyWaitMs, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new BadInputError(`worker ${name} must be an integer ≥ ${min}, got ${String(value)}`);
    }
    if (this.options.heartbeatMs >= leaseMs) throw new BadInputError('worker heartbeatMs must be shorter than leaseMs');
    if (options.maxTasks !== undefined && (!Number.isSafeInteger(options.maxTasks) || options.maxTasks < 1)) {
      throw new BadInputError(`worker maxTasks must be a positive integer, got ${String(options.maxTasks)}`);
    }
    this.id = options.id ?? defaultWorkerId();
    this.log = options.log ?? (() => undefined);
    this.wake = queue.changeSignal();
    this.finisher = new WorkerFinisher(queue, {
      settled: (outcome, status) => this.settled(outcome, status),
      persistFailed: (error, count) => {
        this.counters.persistFailures += 1;
        this.log('error', `could not persist ${count} outcome(s), retrying: ${describe(error)}`, { code: codeOf(error) });
      },
    });
  }

  stats(): WorkerStats {
    return { ...this.counters };
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Runs until stop(), maxTasks or untilEmpty; resolves with the worker's counters. */
  start(): Promise<WorkerStats> {
    this.done ??= this.run();
    return this.done;
  }

  /** Graceful: stop claiming, wait up to graceMs for running handlers, hand the rest back. */
  stop(): Promise<WorkerStats> {
    this.stopping = true;
    this.wake.notify();
    return this.done ?? Promise.resolve(this.stats());
  }

  private async run(): Promise<WorkerStats> {
    const { queue: queueName, types } = this.options;
    if (!(await this.register())) {
      this.wake.close();
      return this.stats();
    }
    await this.recover(); // orphans of dead workers of this host, before taking new work
    // Logged once registered and reconciled: from here on the worker claims work.
    this.log('info', `worker ${this.id} started`, { queue: queueName, types, lock: this.queue.describe().lock.strategy });
    this.timers.push(setInterval(() => this.background(this.heartbeat()), this.options.heartbeatMs));
    this.timers.push(setInterval(() => this.background(this.recover()), this.options.recoverEveryMs));
    try {
      await this.claimLoop();
    } finally {
      await this.shutdown();
    }
    return this.stats();
  }

  /**
   * Registers this worker, waiting out a disk that is full or failing, or a lock that stays busy:
   * a worker started during such a moment (a supervisor's replacement, say) must not exit over
   * it. Anything else (read-only, schema, bad input) is final and thrown. False if stop() came
   * first.
   */
  private async register(): Promise<boolean> {
    const { queue, types } = this.options;
    for (let failures = 0; !this.stopping; failures += 1) {
      try {
        await this.queue.registerWorker({ id: this.id, queue, types });
        return true;
      } catch (error) {
        if (!isTransientWriteError(error)) throw error;
        const delayMs = backoffMs(REGISTER_BACKOFF, failures + 1);
        this.log('error', `register worker failed, retrying in ${delayMs} ms: ${describe(error)}`, { code: codeOf(error) });
        // stop() notifies the wake signal; other processes' writes do too, so wait out the rest.
        const until = Date.now() + delayMs;
        while (!this.stopping && Date.now() < until) await this.wake.wait(until - Date.now());
      }
    }
    return false;
  }

  private async claimLoop(): Promise<void> {
    const { concurrency, batch, maxTasks, leaseMs, maxPollMs } = this.options;
    let idleMs = 1;
    while (!this.stopping && this.counters.claimed < maxTasks) {
      const free = Math.min(concurrency - this.running.size, maxTasks - this.counters.claimed);
      if (free <= 0) {
        await this.wake.wait(maxPollMs);
        continue;
      }
      if (!this.worthClaiming()) {
        if (this.options.untilEmpty && this.running.size === 0 && this.finisher.size === 0 && this.drained()) return;
        // A wake-up comes with the WAL write, a moment before the commit is visible (with
        // synchronous=FULL, an fsync later): after one, look again soon and then less and less
        // often; without one, back off towards maxPollMs.
        const woken = await this.wake.wait(this.idleWaitMs(idleMs));
        idleMs = woken ? 1 : Math.min(idleMs * 2, maxPollMs);
        continue;
      }
      let tasks: ClaimedTask[];
      try {
        tasks = await this.queue.claim({ workerId: this.id, queue: this.options.queue, types: this.options.types, limit: Math.min(batch, free), leaseMs });
      } catch (error) {
        this.log('error', `claim failed: ${describe(error)}`, { code: codeOf(error) });
        await this.wake.wait(maxPollMs);
        continue;
      }
      idleMs = 1;
      this.counters.claimed += tasks.length;
      for (const task of tasks) this.begin(task);
    }
  }

  /**
   * untilEmpty's stop condition: nothing of this queue/types due, nothing running anywhere (a
   * running task may fail and come back), and nothing scheduled due within untilEmptyWaitMs. A
   * scheduled task is not work left undone: a task for 2030 must not keep a drain alive for years.
   */
  private drained(): boolean {
    const backlog = this.queue.backlog(this.options.queue, this.options.types);
    if (backlog.due > 0 || backlog.running > 0) return false;
    if (backlog.nextRunAt !== null && backlog.nextRunAt - Date.now() <= this.options.untilEmptyWaitMs) return false;
    this.counters.scheduled = backlog.scheduled;
    this.log(
      'info',
      backlog.nextRunAt === null
        ? 'queue empty: nothing due, running or scheduled'
        : `queue empty: nothing due or running; ${backlog.scheduled} task(s) scheduled later are left (next at ${new Date(backlog.nextRunAt).toISOString()})`,
      { scheduled: backlog.scheduled },
    );
    return true;
  }

  /** A read-only look (no lock) before paying for a write transaction. */
  private worthClaiming(): boolean {
    return this.queue.hasDue(this.options.queue, this.options.types);
  }

  private idleWaitMs(idleMs: number): number {
    const next = this.queue.nextRunAt(this.options.queue, this.options.types);
    const untilDue = next === null ? Number.POSITIVE_INFINITY : Math.max(1, next - Date.now());
    return Math.min(untilDue, idleMs);
  }

  private begin(task: ClaimedTask): void {
    const controller = new AbortController();
    const entry: Running = { task, controller, lost: null, settled: Promise.resolve() };
    this.running.set(task.id, entry);
    entry.settled = this.execute(entry);
  }

  private async execute(entry: Running): Promise<void> {
    const { task, controller } = entry;
    const timeout = task.timeoutMs === null ? null : setTimeout(() => controller.abort(new Error(`timed out after ${task.timeoutMs} ms`)), task.timeoutMs);
    const lease = { id: task.id, leaseToken: task.leaseToken };
    const context: TaskContext = {
      task,
      id: task.id,
      attempt: task.attempts,
      signal: controller.signal,
      heartbeat: (progress) => this.queue.heartbeat(lease, { leaseMs: this.options.leaseMs, progress }),
      registerProcessGroup: (pgid) => this.recordHandlerGroup(lease, pgid, controller.signal),
    };
    let outcome: Outcome | null;
    try {
      const result = await this.handler(task.payload, context);
      outcome = controller.signal.aborted
        ? { kind: 'fail', lease, workerId: this.id, error: abortText(controller.signal.reason) }
        : { kind: 'complete', lease, workerId: this.id, result };
      // A result the queue cannot store (too big, not JSON) would make the whole group commit
      // throw, and be retried forever with every outcome batched beside it: fail the attempt.
      const unstorable = outcome.kind === 'complete' ? unstorableResult(result, this.queue.maxResultBytes, task.id) : null;
      if (unstorable !== null) outcome = { kind: 'fail', lease, workerId: this.id, error: unstorable };
    } catch (error) {
      // A handler's own error is kept whole (class, every line, stack); an aborted attempt's
      // reason is the worker's (timeout, cancel, lost lease), which its message says in full.
      outcome = { kind: 'fail', lease, workerId: this.id, error: controller.signal.aborted ? abortText(controller.signal.reason) : errorText(error) };
    } finally {
      if (timeout) clearTimeout(timeout);
    }
    if (entry.lost !== null) {
      // Cancelled, reclaimed or handed back: the attempt is not ours to finish (and its slot
      // was freed when that was found out).
      return;
    }
    this.finisher.add(outcome);
  }

  /**
   * Records an attempt's handler group, riding out a full disk or a busy lock for as long as the
   * attempt is ours: the handler must not start its work unrecorded, and failing the attempt over
   * a transient write error would fail a task that never ran.
   */
  private async recordHandlerGroup(lease: Lease, pgid: number, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.queue.recordHandlerGroup(lease, pgid);
        return;
      } catch (error) {
        if (!isTransientWriteError(error) || signal.aborted) throw error;
        const delayMs = backoffMs(RECORD_BACKOFF, attempt);
        this.log('warn', `task ${lease.id}: could not record its handler's process group, retrying in ${Math.round(delayMs)} ms: ${describe(error)}`, { taskId: lease.id, code: codeOf(error) });
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        signal.throwIfAborted();
      }
    }
  }

  private settled(outcome: Outcome, status: TaskStatus | TasklockError): void {
    const entry = this.running.get(outcome.lease.id);
    const ours = entry !== undefined && entry.task.leaseToken === outcome.lease.leaseToken;
    if (ours) this.running.delete(outcome.lease.id);
    this.wake.notify();
    if (status instanceof TasklockError) {
      this.counters.rejected += 1;
      this.log('warn', `task ${outcome.lease.id}: ${outcome.kind} rejected: ${status.message}`, { taskId: outcome.lease.id, code: status.code });
      return;
    }
    if (outcome.kind === 'complete') this.counters.succeeded += 1;
    else if (outcome.kind === 'release') this.counters.released += 1;
    else {
      const final = status === 'failed';
      if (final) this.counters.failed += 1;
      else this.counters.retried += 1;
      this.logFailure(outcome.lease.id, ours ? entry.task : undefined, outcome.error, final);
    }
  }

  /**
   * Every failed attempt, once it is stored, at a level shown by default: one line with the
   * task, its type, the attempt and the error's first line (`show <id>` has the whole text).
   */
  private logFailure(id: number, task: ClaimedTask | undefined, error: string, final: boolean): void {
    const type = task === undefined ? '' : ` (${task.type})`;
    const attempt = task === undefined ? '' : ` attempt ${task.attempts}`;
    const then = final ? 'failed for good' : 'failed, will retry';
    this.log(final ? 'error' : 'warn', `task ${id}${type}${attempt} ${then}: ${firstLine(error)}`, {
      taskId: id,
      type: task?.type,
      attempt: task?.attempts,
      maxAttempts: task?.maxAttempts,
      final,
      error,
    });
  }

  private background(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const held = await this.queue.heartbeatWorker(this.id, this.options.leaseMs);
      for (const entry of this.running.values()) {
        if (entry.lost !== null || held.get(entry.task.id) === entry.task.leaseToken) continue;
        // Not ours in the database any more: cancelled by an operator, or reclaimed after our
        // lease expired (a stall, a frozen process). Abort the handler; write nothing for it.
        const status = this.statusOf(entry.task.id);
        this.markLost(entry, status === 'cancelled' ? 'task was cancelled' : `lease lost (task is now ${status})`);
      }
    } catch (error) {
      this.log('error', `heartbeat failed: ${describe(error)}`, { code: codeOf(error) });
    } finally {
      this.beating = false;
    }
  }

  private statusOf(id: number): string {
    try {
      return this.queue.get(id).status;
    } catch (error) {
      if (error instanceof TasklockError && error.code === 'task-not-found') return 'deleted';
      throw error;
    }
  }

  private markLost(entry: Running, reason: string): void {
    if (entry.lost !== null) return;
    entry.lost = reason;
    this.counters.aborted += 1;
    this.log('warn', `task ${entry.task.id}: ${reason}; aborting its handler`, { taskId: entry.task.id });
    entry.controller.abort(new Error(reason));
    // Free the slot now: a handler that ignores its signal must not shrink the worker forever.
    // (By identity: this worker may already hold a newer attempt of the same task.)
    if (this.running.get(entry.task.id) === entry) this.running.delete(entry.task.id);
    this.wake.notify();
  }

  private async recover(): Promise<void> {
    if (this.recovering || this.stopping) return;
    this.recovering = true;
    try {
      const result = await this.queue.recover({ by: this.id, workerRetentionMs: this.options.workerRetentionMs });
      for (const killed of result.killedGroups) {
        this.log('warn', `task ${killed.taskId}: its previous attempt's process group ${killed.pgid} outlived its worker (${killed.members} process(es)); killed, gone after ${killed.waitedMs} ms`, { taskId: killed.taskId });
      }
      for (const blocked of result.blocked) {
        this.log('error', `task ${blocked.taskId}: its previous attempt's process group ${blocked.pgid} is still alive after SIGKILL; not handing the task on yet`, { taskId: blocked.taskId });
      }
      const count = result.expired + result.deadOwner;
      if (count > 0) {
        this.counters.recovered += count;
        this.log('warn', `reclaimed ${count} task(s): ${result.expired} expired lease(s), ${result.deadOwner} of dead worker(s) ${result.deadWorkers.join(', ')}`);
        this.wake.notify();
      }
      if (result.pruned > 0) this.log('info', `pruned ${result.pruned} ended worker row(s) past the retention`);
    } catch (error) {
      this.log('error', `recovery sweep failed: ${describe(error)}`, { code: codeOf(error) });
    } finally {
      this.recovering = false;
    }
  }

  private async shutdown(): Promise<void> {
    const { graceMs } = this.options;
    if (this.running.size > 0) {
      this.log('info', `stopping: waiting up to ${graceMs} ms for ${this.running.size} running task(s)`);
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.running.values()].map((e) => e.settled)).then(() => this.finisher.drain()),
        new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(graceTimer);
    }
    // Whatever is still running is handed back to pending, fenced by its lease token.
    for (const entry of this.running.values()) {
      if (entry.lost !== null) continue;
      entry.lost = 'worker shut down';
      entry.controller.abort(new Error('worker shut down before the task finished'));
      this.finisher.add({ kind: 'release', lease: { id: entry.task.id, leaseToken: entry.task.leaseToken }, workerId: this.id });
    }
    await this.finisher.drain();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    // A heartbeat or sweep still waiting for the lock must finish before our caller closes the
    // queue: closing its lock descriptor under it would let another process in beside it.
    await Promise.all(this.pending);
    this.finisher.close();
    this.wake.close();
    try {
      await this.queue.stopWorker(this.id);
    } catch (error) {
      this.log('error', `could not mark worker stopped: ${describe(error)}`, { code: codeOf(error) });
    }
    this.log('info', `worker ${this.id} stopped`, { ...this.counters });
  }
}

/** host:pid:random — unique across hosts and restarts, and it says where to look. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

function unstorableResult(result: unknown, maxBytes: number, taskId: number): string | null {
  try {
    toJsonText(result ?? null, 'result', maxBytes, taskId);
    return null;
  } catch (error) {
    return errorText(error, { detail: 'message' });
  }
}

/** One line for a log: the error's first line (error-text.ts describes errors; this only names it). */
const describe = errorSummary;

/** Why an aborted attempt ended (a timeout, a cancel, a lost lease, a shutdown): its message says it all. */
function abortText(reason: unknown): string {
  return errorText(reason, { detail: 'message' });
}

function codeOf(error: unknown): string | undefined {
  return error instanceof TasklockError ? (error.sqliteCode ?? error.code) : undefined;
}
