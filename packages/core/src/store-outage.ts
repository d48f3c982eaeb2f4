/**
 * A worker's view of whether its store answers. Each part of the worker that calls the store
 * (the claim loop, the finisher, heartbeats, sweeps, registration, a handler group's record)
 * reports each call that failed transiently (a connection cut, a server restarting, a statement
 * timeout, a full disk, a busy lock: `isTransientWriteError`) and each call that succeeded.
 *
 * An outage starts with the first such failure of any part and ends once every part that failed
 * in it has succeeded again — so that a store that answers one part (a read) while another keeps
 * failing (a write waiting on a locked row until statement_timeout) is one outage, not a flapping
 * series. It is logged once when it starts and once when it ends, never per failed call, and
 * every part retries after its own capped exponential backoff with jitter, so that a fleet of
 * workers neither hammers a server that is coming back nor retries in lockstep. Engine-neutral:
 * the store judged what is transient.
 */
import { backoffMs, type BackoffPolicy } from './backoff.js';
import { engineCodeOf, errorSummary } from './error-text.js';
import { isTransientWriteError } from './errors.js';
import type { WorkerLog } from './worker-options.js';

/** 20 ms, doubling, up to 2 s, jittered: a restarting server is back within about a second. */
export const OUTAGE_BACKOFF: BackoffPolicy = { baseDelayMs: 20, maxDelayMs: 2000 };

export class StoreOutage {
  /** Parts failing now → their consecutive failures (the backoff's attempt number). */
  private readonly failing = new Map<string, number>();
  private since: number | null = null;
  private attempts = 0;
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
   * `part`'s call to the store failed. Transient: counted in the outage (which starts here if
   * none is on) and answered with how long `part` should wait before trying again. Anything else
   * is not an outage (bad input, a refusal, a read-only store): null, and the caller handles it.
   */
  failed(part: string, error: unknown): number | null {
    if (!isTransientWriteError(error)) return null;
    const failures = (this.failing.get(part) ?? 0) + 1;
    this.failing.set(part, failures);
    this.attempts += 1;
    this.retries += 1;
    if (this.since === null) {
      this.since = Date.now();
      this.count += 1;
      this.log('error', `lost the store: ${errorSummary(error)}; retrying with backoff`, { code: engineCodeOf(error) });
    }
    return backoffMs(this.policy, failures);
  }

  /** `part`'s call succeeded — or `part` stopped trying (its attempt was aborted): it no longer keeps an outage on. */
  succeeded(part: string): void {
    if (!this.failing.delete(part) || this.failing.size > 0 || this.since === null) return;
    const outageMs = Date.now() - this.since;
    this.log('info', `store reachable again after ${(outageMs / 1000).toFixed(1)} s, ${this.attempts} attempts`, { outageMs, attempts: this.attempts });
    this.since = null;
    this.attempts = 0;
  }
}
