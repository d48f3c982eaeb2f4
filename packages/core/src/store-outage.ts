/**
 * A worker's view of whether its store answers. Every part of the worker (claim loop, finisher,
 * heartbeats, sweeps, registration) reports each call that failed transiently (a connection cut,
 * a server restarting, a statement timeout, a full disk, a busy lock: `isTransientWriteError`) and
 * each call that succeeded. An outage is the stretch from the first such failure to the next
 * success: it is logged once when it starts and once when it ends — not once per failed call —
 * and every retry inside it waits a capped exponential backoff with jitter, so that a fleet of
 * workers does not hammer a server that is coming back, nor retry in lockstep. Engine-neutral:
 * the store judged what is transient.
 */
import { backoffMs, type BackoffPolicy } from './backoff.js';
import { engineCodeOf, errorSummary } from './error-text.js';
import { isTransientWriteError } from './errors.js';
import type { WorkerLog } from './worker-options.js';

/** 20 ms, doubling, up to 2 s, jittered: a restarting server is back within about a second. */
export const OUTAGE_BACKOFF: BackoffPolicy = { baseDelayMs: 20, maxDelayMs: 2000 };

export class StoreOutage {
  private since: number | null = null;
  private failures = 0;
  /** Outages seen so far (ended or not). */
  count = 0;
  /** Calls that failed transiently so far, in every outage: each was (or will be) tried again. */
  retries = 0;

  constructor(
    private readonly log: WorkerLog,
    private readonly policy: BackoffPolicy = OUTAGE_BACKOFF,
  ) {}

  get active(): boolean {
    return this.since !== null;
  }

  /**
   * A call to the store failed. Transient: counted in the outage (which starts here if none is
   * on) and answered with how long to wait before trying again. Anything else is not an outage
   * (bad input, a refusal, a read-only store): null, and the caller handles it as before.
   */
  failed(error: unknown): number | null {
    if (!isTransientWriteError(error)) return null;
    this.failures += 1;
    this.retries += 1;
    if (this.since === null) {
      this.since = Date.now();
      this.count += 1;
      this.log('error', `lost the store: ${errorSummary(error)}; retrying with backoff`, { code: engineCodeOf(error) });
    }
    return backoffMs(this.policy, this.failures);
  }

  /** A call to the store succeeded: an outage in progress is over. */
  succeeded(): void {
    if (this.since === null) return;
    const seconds = ((Date.now() - this.since) / 1000).toFixed(1);
    this.log('info', `store reachable again after ${seconds} s, ${this.failures} attempts`, { outageMs: Date.now() - this.since, attempts: this.failures });
    this.since = null;
    this.failures = 0;
  }
}
