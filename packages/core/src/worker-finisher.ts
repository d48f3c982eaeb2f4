import { backoffMs } from './backoff.js';
import { storedEarlier } from './commit-fate.js';
import type { Outcome, Queue } from './queue.js';
import { TasklockError } from './errors.js';
import type { StoreOutage } from './store-outage.js';
import type { TaskStatus } from './task-state.js';
import type { ClaimedTask } from './task.js';
import type { ClaimOptions } from './validate.js';

/** Outcomes that failed to persist for good reasons of their own (not an outage) are tried again: 10 ms, doubling, up to 1 s. */
const PERSIST_BACKOFF = { baseDelayMs: 10, maxDelayMs: 1000, jitter: false };

export interface FinisherHooks {
  /** The outcome is in the database (error = null) or was refused (lease lost, task gone). */
  settled(outcome: Outcome, status: TaskStatus | TasklockError): void;
  /** The transaction failed; the outcomes stay queued and are tried again. `outage`: the store is away (the outage logs it). */
  persistFailed(error: unknown, count: number, outage: boolean): void;
  /**
   * The claim to make in the same transaction as `batch` (its slots reserved by the worker), or
   * null: a busy worker takes its next tasks with the write that frees their slots.
   */
  nextClaim(batch: readonly Outcome[]): ClaimOptions | null;
  /** That claim's answer, after the batch's outcomes are settled (none if the transaction failed). */
  claimed(next: ClaimOptions, tasks: readonly ClaimedTask[]): void;
}

/**
 * Group commit for a worker's finished attempts: outcomes that arrive while a commit is in
 * flight (or in the same tick) go out together in the next transaction, so under load one lock
 * + one fsync serves many tasks, and an outcome is never delayed by more than the commit ahead
 * of it. When the worker has slots to fill, the same transaction claims its next tasks
 * (queue.finishAndClaim): one lock hand-over per batch instead of two. A failed commit (SQLITE_FULL,
 * IOERR, BUSY after retries, lock timeout) claims nothing and keeps every
 * outcome queued, unchanged, and retries with capped backoff: the tasks stay `running` under
 * leases the worker keeps extending, never silently lost and never marked done in memory only.
 * A transient failure may hide a commit that took (the connection died during COMMIT): when the
 * retry is refused by the fence, the attempt's run says whether that earlier commit was this
 * outcome's (commit-fate.ts), and it is then settled as stored, once.
 */
export class WorkerFinisher {
  private queued: Outcome[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The delay before the next retry, set by the failure that scheduled it. */
  private retryDelayMs = 0;
  /** Outcomes sent in a transaction that failed transiently: their commit's fate is unknown. */
  private readonly uncertain = new WeakSet<Outcome>();

  constructor(
    private readonly queue: Queue,
    private readonly hooks: FinisherHooks,
    private readonly outage: StoreOutage,
    private readonly maxBatch = 512,
  ) {}

  get size(): number {
    return this.queued.length + (this.flushing ? 1 : 0);
  }

  add(outcome: Outcome): void {
    this.queued.push(outcome);
    this.schedule();
  }

  /** Resolves once everything queued so far is settled, or after `maxTries` failed retries. */
  async drain(maxTries = 20): Promise<void> {
    let tries = 0;
    while (this.queued.length > 0 || this.flushing) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      if (this.retryTimer) {
        tries += 1;
        if (tries > maxTries) return;
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
      await this.flush();
    }
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) void this.flush();
    });
  }

  private flush(): Promise<void> {
    const batch = this.queued.splice(0, this.maxBatch);
    if (batch.length === 0) return Promise.resolve();
    const next = this.hooks.nextClaim(batch);
    const write =
      next === null
        ? this.queue.finishMany(batch).then((statuses) => ({ statuses, claimed: [] as ClaimedTask[] }))
        : this.queue.finishAndClaim(batch, next);
    this.flushing = write
      .then(
        async ({ statuses, claimed }) => {
          this.failures = 0;
          this.outage.succeeded('finish');
          for (const [i, outcome] of batch.entries()) {
            const status = await this.settledAs(outcome, statuses[i]!);
            if (status === null) this.queued.push(outcome);
            else this.hooks.settled(outcome, status);
          }
          if (next !== null) this.hooks.claimed(next, claimed);
        },
        (error: unknown) => {
          if (next !== null) this.hooks.claimed(next, []);
          this.failures += 1;
          const outageDelayMs = this.outage.failed('finish', error);
          if (outageDelayMs !== null) for (const outcome of batch) this.uncertain.add(outcome);
          this.queued.unshift(...batch);
          this.hooks.persistFailed(error, batch.length, outageDelayMs !== null);
          this.retryDelayMs = outageDelayMs ?? backoffMs(PERSIST_BACKOFF, this.failures);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.schedule();
          }, this.retryDelayMs);
        },
      )
      .finally(() => {
        this.flushing = null;
        if (this.queued.length > 0) this.schedule();
      });
    return this.flushing;
  }

  /**
   * A refusal of an outcome whose earlier write failed transiently: stored by that write after
   * all (its run says so) or truly refused. Null when the run cannot be read now (the store went
   * away again): the outcome is queued once more, still uncertain, and the question asked again.
   */
  private async settledAs(outcome: Outcome, status: TaskStatus | TasklockError): Promise<TaskStatus | TasklockError | null> {
    if (!(status instanceof TasklockError) || !this.uncertain.has(outcome)) return status;
    try {
      const stored = await storedEarlier(this.queue, outcome);
      this.uncertain.delete(outcome);
      return stored ?? status;
    } catch (error) {
      if (this.outage.failed('finish', error) !== null) return null;
      // The task is gone (purged) or unreadable for good: nothing to count; the refusal is reported.
      this.uncertain.delete(outcome);
      return status;
    }
  }
}
