import { engineCodeOf, errorSummary, errorText, firstLine } from './error-text.js';
import { TasklockError } from './errors.js';
import { claimLoop } from './claim-loop.js';
import { ClaimSlots } from './claim-slots.js';
import { AttemptAbort } from './attempt-abort.js';
import { AttemptReporter } from './attempt-reporter.js';
import { LeaseKeeper, type RunningAttempt } from './lease-keeper.js';
import type { Outcome, Queue } from './queue.js';
import type { ClaimOptions } from './validate.js';
import type { ChangeSignal } from './storage/store.js';
import { StoreOutage } from './store-outage.js';
import type { TaskStatus } from './task-state.js';
import { JsonText, type ClaimedTask } from './task.js';
import type { LooseTasks, TaskMap, TaskTypeOf } from './task-map.js';
import { BadInputError } from './errors.js';
import { WorkerEvents, type WorkerEventName, type WorkerListener } from './worker-events.js';
import { resolveWorkerOptions, type WorkerLog, type WorkerOptions, type WorkerSettings } from './worker-options.js';
import { WorkerFinisher } from './worker-finisher.js';
import { HandlerDurations } from './metrics/handler-durations.js';
import { loadRunTracer, type RunTracer } from './tracing/run-span.js';
import type { BucketCounts } from './storage/store.js';

export { defaultWorkerId, warningsToStderr, type WorkerLog, type WorkerLogLevel, type WorkerOptions } from './worker-options.js';

export interface TaskContext {
  task: ClaimedTask;
  id: number;
  attempt: number;
  /** Aborts on cancel, lease loss, the task's timeout, or a shutdown past the grace period. */
  signal: AbortSignal;
  /**
   * Extends this task's lease now and records progress (and the counts not yet written); rejects
   * with LeaseLostError if gone.
   */
  heartbeat(progress?: unknown): Promise<void>;
  /**
   * Records progress (any JSON value), throttled: at most one write per progressEveryMs, the
   * latest value always written, at the latest with the attempt's outcome. Fenced by the lease: a
   * value reported after the lease was lost is never stored. Throws BadInputError at once for a
   * value that is not JSON or too big.
   */
  progress(value: unknown): void;
  /**
   * Adds `delta` (a whole number) to this task's durable counter `name` (a name like a type's),
   * e.g. count('tokens', 812). Buffered and written with the next progress write or heartbeat
   * interval, and at the latest in the same transaction as the attempt's outcome; refused with
   * everything else of a lost lease. Counts of an attempt that crashes are kept up to its last
   * write (README: Progress and counters).
   */
  count(name: string, delta: number): void;
  /**
   * Records the process group this attempt's handler started (once per attempt). Should this
   * worker die while the group runs, the reclaim sweep on this host kills the group and waits
   * for it to be gone before the task runs again. Rejects with LeaseLostError if the lease is
   * gone: the caller must then kill the group itself.
   */
  registerProcessGroup(pgid: number): Promise<void>;
}

export type TaskHandler = (payload: unknown, context: TaskContext) => unknown;

/**
 * One handler per task type, each checked against `Tasks`. A worker given a map claims only the
 * types it has handlers for (unless `types` names a subset of them).
 */
export type TaskHandlers<Tasks extends TaskMap<Tasks> = LooseTasks> = {
  [Type in TaskTypeOf<Tasks>]?: (payload: Tasks[Type]['payload'], context: TaskContext) => Tasks[Type]['result'] | PromiseLike<Tasks[Type]['result']>;
};

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
  /** Tasks this worker's sweeps took back from dead workers or expired leases (reclaim.ts). */
  reclaimed: number;
  /** Transactions that failed to persist outcomes (each retried). */
  persistFailures: number;
  /** Times the store became unreachable (each logged once when it started and once when it ended). */
  storeOutages: number;
  /** Calls to the store that failed during those outages, each retried after a backoff. */
  storeRetries: number;
  /** untilEmpty: tasks of this queue/types left scheduled (not due within the wait) when it stopped. */
  scheduled: number;
}

/**
 * Runs a handler for claimed tasks. The worker holds no authoritative state: a task it runs is
 * `running` in the store under its lease, and what it learns (finished, failed, lost) is
 * applied in memory only after the store accepted it. Its parts: the claim loop (claim-loop.ts),
 * the leases (lease-keeper.ts), group commit of outcomes (worker-finisher.ts), the reclaim sweep
 * (reclaim.ts, run every reclaimEveryMs) and, here, handlers and shutdown.
 */
export class Worker<Tasks extends TaskMap<Tasks> = LooseTasks> {
  readonly id: string;
  private readonly queue: Queue;
  private readonly handler: TaskHandler;
  private readonly events: WorkerEvents<Tasks>;
  /** Set by work, cleared by a `drained` event: that event comes once per idle spell, not per poll. */
  private busySinceDrained = true;
  private readonly settings: WorkerSettings;
  private readonly log: WorkerLog;
  private readonly running = new Map<number, RunningAttempt>();
  private readonly finisher: WorkerFinisher;
  private readonly leases: LeaseKeeper;
  private readonly wake: ChangeSignal;
  private readonly outage: StoreOutage;
  private readonly counters: WorkerStats = {
    claimed: 0, succeeded: 0, failed: 0, retried: 0, released: 0, rejected: 0, aborted: 0, reclaimed: 0, persistFailures: 0,
    storeOutages: 0, storeRetries: 0, scheduled: 0,
  };
  private readonly durations = new HandlerDurations();
  /** Set at start when @opentelemetry/api is installed: each handler run is then a span (tracing/run-span.ts). */
  private runTracer: RunTracer | null = null;
  private stopping = false;
  private readonly slots: ClaimSlots;
  private timers: NodeJS.Timeout[] = [];
  private sweeping = false;
  private done: Promise<WorkerStats> | null = null;
  /** Timer-driven writes still running: shutdown waits for them before the queue may close. */
  private readonly pending = new Set<Promise<void>>();
  /** The attempt each outcome with the finisher ends, for the events told once it is settled. */
  private readonly attemptOf = new WeakMap<Outcome, { attempt: RunningAttempt; ran: HandlerRun | null }>();

  constructor(queue: Queue<Tasks>, handler: TaskHandler | TaskHandlers<Tasks>, options: WorkerOptions = {}) {
    // Loose below this line: the worker runs whatever the store hands it; Tasks only types the API.
    this.queue = queue;
    const handlers = typeof handler === 'function' ? null : (handler as Record<string, TaskHandler | undefined>);
    this.settings = resolveWorkerOptions(handlers === null || options.types ? options : { ...options, types: Object.keys(handlers) });
    if (handlers !== null) {
      const types = this.settings.types ?? [];
      if (types.length === 0) throw new BadInputError('worker handler map has no handlers');
      const missing = types.filter((type) => typeof handlers[type] !== 'function');
      if (missing.length > 0) throw new BadInputError(`worker has no handler for type(s) ${missing.join(', ')}`);
    }
    this.handler = handlers === null ? (handler as TaskHandler) : (payload, context) => handlers[context.task.type]!(payload, context);
    this.id = this.settings.id;
    this.log = this.settings.log;
    this.events = new WorkerEvents<Tasks>((name, error) => {
      this.log('error', `a '${name}' listener threw: ${errorSummary(error)}`, { event: name });
      if (name !== 'error') this.events.emit('error', asError(error));
    });
    this.wake = this.queue.changeSignal();
    this.outage = new StoreOutage(this.log);
    this.slots = new ClaimSlots(this.settings, () => ({ running: this.running.size, claimed: this.counters.claimed }));
    this.leases = new LeaseKeeper(this.queue, this.settings, this.outage, (attempt, reason) => this.markLost(attempt, reason));
    this.finisher = new WorkerFinisher(this.queue, {
      settled: (outcome, status) => this.settled(outcome, status),
      persistFailed: (error, count, outage) => {
        this.counters.persistFailures += 1;
        if (!outage) this.fault(error, `could not persist ${count} outcome(s), retrying: ${errorSummary(error)}`);
      },
      nextClaim: (batch) => this.nextClaim(batch),
      claimed: (next, tasks) => this.claimed(next.limit ?? 0, tasks),
    }, this.outage);
  }

  /** Listens to `name` (worker-events.ts lists the events and what each carries). */
  on<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): this {
    this.events.on(name, listener);
    return this;
  }

  once<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): this {
    this.events.once(name, listener);
    return this;
  }

  off<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): this {
    this.events.off(name, listener);
    return this;
  }

  listenerCount(name: WorkerEventName): number {
    return this.events.count(name);
  }

  stats(): WorkerStats {
    return { ...this.counters, storeOutages: this.outage.count, storeRetries: this.outage.retries };
  }

  /** How long handlers ran, per task type, as cumulative counts at each bound (ms): metrics/worker-metrics.ts exports them. */
  handlerDurations(boundsMs: readonly number[]): Map<string, BucketCounts> {
    return this.durations.buckets(boundsMs);
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
    const { queue: queueName, types, heartbeatMs, reclaimEveryMs } = this.settings;
    if (!(await this.register())) {
      this.wake.close();
      return this.stats();
    }
    this.runTracer = await loadRunTracer(this.id);
    await this.reclaim(); // orphans of dead workers of this host, before taking new work
    // Logged once registered and reconciled: from here on the worker claims work.
    this.log('info', `worker ${this.id} started`, { queue: queueName, types, lock: this.queue.describe().lock.strategy });
    this.timers.push(setInterval(() => this.background(this.leases.beat(this.running)), heartbeatMs));
    this.timers.push(setInterval(() => this.background(this.reclaim()), reclaimEveryMs));
    const worker = this;
    try {
      await claimLoop(this.queue, this.settings, this.wake, this.outage, {
        get stopping() {
          return worker.stopping;
        },
        get full() {
          return worker.counters.claimed >= worker.settings.maxTasks;
        },
        get running() {
          return worker.running.size;
        },
        get unsettled() {
          return worker.finisher.size;
        },
        reserve: (wanted) => this.slots.reserve(wanted),
        claimed: (slots, tasks) => this.claimed(slots, tasks),
        drained: (scheduled) => {
          this.counters.scheduled = scheduled;
        },
        idle: () => this.idle(),
        failed: (error, message) => this.fault(error, message),
      });
    } finally {
      await this.shutdown();
    }
    return this.stats();
  }

  /**
   * Registers this worker, waiting out a store that is away (a disk full or failing, a lock that
   * stays busy, a server restarting): a worker started during such a moment (a supervisor's
   * replacement, say) must not exit over it. Anything else (read-only, schema, bad input) is final
   * and thrown. False if stop() came first.
   */
  private async register(): Promise<boolean> {
    const { queue, types, deadAfterMs } = this.settings;
    while (!this.stopping) {
      try {
        await this.queue.registerWorker({ id: this.id, queue, types, deadAfterMs });
        this.outage.succeeded('register');
        return true;
      } catch (error) {
        const delayMs = this.outage.failed('register', error);
        if (delayMs === null) throw error;
        // stop() notifies the wake signal; other processes' writes do too, so wait out the rest.
        const until = Date.now() + delayMs;
        while (!this.stopping && Date.now() < until) await this.wake.waitForChange(until - Date.now());
      }
    }
    return false;
  }

  /** A claim answered: its slots are given back and its tasks start (each taking a slot again). */
  private claimed(slots: number, tasks: readonly ClaimedTask[]): void {
    this.slots.release(slots);
    this.counters.claimed += tasks.length;
    for (const task of tasks) this.begin(task);
  }

  /** The claim to ride on the finisher's next write: as many tasks as that write frees slots for, if any. */
  private nextClaim(batch: readonly Outcome[]): ClaimOptions | null {
    if (this.stopping || this.counters.claimed >= this.settings.maxTasks) return null;
    // Outcomes of attempts this worker still counts as running free their slot when committed.
    const freeing = batch.filter((outcome) => this.running.get(outcome.lease.id)?.task.leaseToken === outcome.lease.leaseToken).length;
    const limit = this.slots.reserve(this.settings.batch, freeing);
    if (limit === 0) return null;
    const { id: workerId, queue, types, leaseMs } = this.settings;
    return { workerId, queue, types, limit, leaseMs };
  }

  private begin(task: ClaimedTask): void {
    const attempt: RunningAttempt = { task, abort: new AttemptAbort(), lost: null, finishing: false, settled: Promise.resolve(), reporter: null };
    this.running.set(task.id, attempt);
    this.busySinceDrained = true;
    this.events.claimed(task);
    attempt.settled = this.execute(attempt);
  }

  /** Nothing due for this worker and nothing of its own running or unsettled. */
  private idle(): void {
    if (!this.busySinceDrained) return;
    this.busySinceDrained = false;
    this.events.emit('drained', { queue: this.settings.queue, types: this.settings.types });
  }

  /**
   * Emits `progress` for an attempt whose progress the store has just recorded: a write of its
   * reporter (ctx.progress, ctx.heartbeat), or the outcome that carried its last value.
   */
  private emitProgress(task: ClaimedTask, progress: unknown): void {
    this.events.progress(task, progress);
  }

  /** A failure of the worker itself: logged, and told to `error` listeners (none needed). */
  private fault(error: unknown, message: string): void {
    this.log('error', message, { code: engineCodeOf(error) });
    this.events.emit('error', asError(error));
  }

  private async execute(attempt: RunningAttempt): Promise<void> {
    const { task, abort } = attempt;
    const timeout = task.timeoutMs === null ? null : setTimeout(() => abort.abort(new Error(`timed out after ${task.timeoutMs} ms`)), task.timeoutMs);
    const lease = { id: task.id, leaseToken: task.leaseToken };
    const context: TaskContext = {
      task,
      id: task.id,
      attempt: task.attempts,
      get signal() {
        return abort.signal;
      },
      heartbeat: (progress) => this.reporterOf(attempt).writeNow(progress),
      progress: (value) => this.reporterOf(attempt).progress(value),
      count: (name, delta) => this.reporterOf(attempt).count(name, delta),
      registerProcessGroup: (pgid) => this.leases.recordHandlerGroup(lease, pgid, abort.signal),
    };
    let outcome: Outcome | null;
    const startedAt = performance.now();
    let ran: HandlerRun | null = null;
    const span = this.runTracer?.start(task) ?? null;
    try {
      const result = await (span === null ? this.handler(task.payload, context) : span.run(() => this.handler(task.payload, context)));
      ran = { result, durationMs: performance.now() - startedAt };
      // Serialised once, here: a result the queue cannot store (too big, not JSON) would make the
      // whole group commit throw, and be retried forever with every outcome batched beside it.
      const stored = abort.aborted ? null : storedResult(result, this.queue.maxResultBytes, task.id);
      outcome =
        stored === null
          ? { kind: 'fail', lease, workerId: this.id, error: abortText(abort.reason) }
          : stored instanceof JsonText
            ? { kind: 'complete', lease, workerId: this.id, result: stored }
            : { kind: 'fail', lease, workerId: this.id, error: stored.unstorable };
    } catch (error) {
      // A handler's own error is kept whole (class, every line, stack); an aborted attempt's
      // reason is the worker's (timeout, cancel, lost lease), which its message says in full.
      outcome = { kind: 'fail', lease, workerId: this.id, error: abort.aborted ? abortText(abort.reason) : errorText(error) };
    } finally {
      if (timeout) clearTimeout(timeout);
      this.durations.record(task.type, performance.now() - startedAt);
    }
    if (attempt.reporter !== null && attempt.lost === null) {
      const report = await attempt.reporter.final();
      if (report !== undefined) outcome.report = report;
    }
    span?.end(attempt.lost !== null ? { kind: 'aborted', reason: attempt.lost } : outcome.kind === 'fail' ? outcome : { kind: 'complete' });
    if (attempt.lost !== null) {
      // Cancelled, reclaimed or handed back: the attempt is not ours to finish (and its slot
      // was freed when that was found out).
      attempt.reporter?.close();
      return;
    }
    attempt.finishing = true;
    this.attemptOf.set(outcome, { attempt, ran });
    this.finisher.add(outcome);
  }

  /** The attempt's reporter, made on first use. */
  private reporterOf(attempt: RunningAttempt): AttemptReporter {
    const { task } = attempt;
    const lease = { id: task.id, leaseToken: task.leaseToken };
    const part = `progress of task ${task.id}`;
    attempt.reporter ??= new AttemptReporter({
      taskId: task.id,
      progressEveryMs: this.settings.progressEveryMs,
      countsEveryMs: this.settings.heartbeatMs,
      maxProgressBytes: this.queue.maxResultBytes,
      write: async (progress, counts) => {
        await this.queue.heartbeat(lease, { leaseMs: this.settings.leaseMs, progress, counts });
        if (progress !== undefined) this.emitProgress(task, JSON.parse(progress.text));
      },
      failed: (error) => {
        if (this.outage.failed(part, error) === null) this.log('error', `task ${task.id}: could not write progress, retrying: ${errorSummary(error)}`, { taskId: task.id, code: engineCodeOf(error) });
      },
      succeeded: () => this.outage.succeeded(part),
    });
    return attempt.reporter;
  }

  private settled(outcome: Outcome, status: TaskStatus | TasklockError): void {
    const attempt = this.running.get(outcome.lease.id);
    const ours = attempt !== undefined && attempt.task.leaseToken === outcome.lease.leaseToken;
    if (ours) this.running.delete(outcome.lease.id);
    this.wake.notify();
    const ended = this.attemptOf.get(outcome);
    if (status instanceof TasklockError) {
      this.counters.rejected += 1;
      this.log('warn', `task ${outcome.lease.id}: ${outcome.kind} rejected: ${status.message}`, { taskId: outcome.lease.id, code: status.code });
      // Refused by the fence: the attempt's end is not stored, and this is how the worker learns it lost the task.
      if (ended !== undefined && ended.attempt.lost === null) {
        ended.attempt.lost = status.message;
        this.events.leaseLost(ended.attempt.task, status.message);
      }
      return;
    }
    // The progress the outcome carried (the last one, written in its transaction) comes before its end.
    const progress = outcome.report?.progress;
    if (progress != null && ended !== undefined) this.emitProgress(ended.attempt.task, JSON.parse(progress));
    if (outcome.kind === 'complete') {
      this.counters.succeeded += 1;
      if (ended !== undefined) this.events.completed(ended.attempt.task, ended.ran?.result, ended.ran?.durationMs ?? 0);
    } else if (outcome.kind === 'release') {
      this.counters.released += 1;
      if (ended !== undefined) this.events.released(ended.attempt.task);
    } else {
      const final = status === 'failed';
      if (final) this.counters.failed += 1;
      else this.counters.retried += 1;
      const task = ended?.attempt.task ?? (ours ? attempt.task : undefined);
      this.logFailure(outcome.lease.id, task, outcome.error, final);
      if (task !== undefined) this.events.failedAttempt(task, outcome.error, final);
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

  private markLost(attempt: RunningAttempt, reason: string): void {
    if (attempt.lost !== null) return;
    attempt.lost = reason;
    attempt.reporter?.close();
    this.counters.aborted += 1;
    this.events.leaseLost(attempt.task, reason);
    this.log('warn', `task ${attempt.task.id}: ${reason}; aborting its handler`, { taskId: attempt.task.id });
    attempt.abort.abort(new Error(reason));
    // Free the slot now: a handler that ignores its signal must not shrink the worker forever.
    // (By identity: this worker may already hold a newer attempt of the same task.)
    if (this.running.get(attempt.task.id) === attempt) this.running.delete(attempt.task.id);
    this.wake.notify();
  }

  private async reclaim(): Promise<void> {
    if (this.sweeping || this.stopping) return;
    this.sweeping = true;
    try {
      const result = await this.queue.reclaim({ by: this.id, workerRetentionMs: this.settings.workerRetentionMs });
      for (const killed of result.killedGroups) {
        this.log('warn', `task ${killed.taskId}: its previous attempt's process group ${killed.pgid} outlived its worker (${killed.members} process(es)); killed, gone after ${killed.waitedMs} ms`, { taskId: killed.taskId });
      }
      for (const blocked of result.blocked) {
        this.log('error', `task ${blocked.taskId}: its previous attempt's process group ${blocked.pgid} is still alive after SIGKILL; not handing the task on yet`, { taskId: blocked.taskId });
      }
      const count = result.leaseExpired + result.deadOwner;
      if (count > 0) {
        this.counters.reclaimed += count;
        this.log('warn', `reclaimed ${count} task(s): ${result.leaseExpired} expired lease(s), ${result.deadOwner} of dead worker(s) ${result.deadWorkers.join(', ')}`);
        this.wake.notify();
      }
      if (result.pruned > 0) this.log('info', `pruned ${result.pruned} ended worker row(s) past the retention`);
      this.outage.succeeded('sweep');
    } catch (error) {
      if (this.outage.failed('sweep', error) === null) this.fault(error, `reclaim sweep failed: ${errorSummary(error)}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** Queues a release for every attempt still ours; answers how many. */
  private handBack(): number {
    let count = 0;
    for (const attempt of this.running.values()) {
      if (attempt.lost !== null) continue;
      attempt.lost = 'worker shut down';
      attempt.abort.abort(new Error('worker shut down before the task finished'));
      const report = attempt.reporter?.take();
      const release: Outcome = { kind: 'release', lease: { id: attempt.task.id, leaseToken: attempt.task.leaseToken }, workerId: this.id, ...(report && { report }) };
      this.attemptOf.set(release, { attempt, ran: null });
      this.finisher.add(release);
      count += 1;
    }
    return count;
  }

  private async shutdown(): Promise<void> {
    // However the loop ended (stop(), maxTasks, untilEmpty), nothing is claimed from here on:
    // not even by a finish + claim (nextClaim reads this).
    this.stopping = true;
    const { graceMs } = this.settings;
    if (this.running.size > 0) {
      this.log('info', `stopping: waiting up to ${graceMs} ms for ${this.running.size} running task(s)`);
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.running.values()].map((e) => e.settled)).then(() => this.finisher.drain()),
        new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(graceTimer);
    }
    // Whatever is still running is handed back to pending, fenced by its lease token. Again after
    // the drain: a finish + claim that was in flight when stop() came may have started new tasks.
    let handedBack: number;
    do {
      handedBack = this.handBack();
      await this.finisher.drain();
    } while (handedBack > 0);
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
      this.fault(error, `could not mark worker stopped: ${errorSummary(error)}`);
    }
    this.log('info', `worker ${this.id} stopped`, { ...this.stats() });
  }
}

function storedResult(result: unknown, maxBytes: number, taskId: number): JsonText | { unstorable: string } {
  try {
    return JsonText.of(result ?? null, 'result', maxBytes, taskId);
  } catch (error) {
    return { unstorable: errorText(error, { detail: 'message' }) };
  }
}

/** Why an aborted attempt ended (a timeout, a cancel, a lost lease, a shutdown): its message says it all. */
function abortText(reason: unknown): string {
  return errorText(reason, { detail: 'message' });
}

/** What a handler that returned gave back, and how long it ran. */
interface HandlerRun {
  result: unknown;
  durationMs: number;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
