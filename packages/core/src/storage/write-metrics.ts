import type { BucketCounts, LatencySummary, WriteMetricsSnapshot } from './store.js';

/**
 * Fixed-size latency histogram: log-spaced buckets from 1 µs to ~17 min, so memory stays
 * constant however long a worker runs (a worker's RSS must be flat across hours).
 */
const BUCKETS_PER_DECADE = 20;
const DECADES = 9; // 1e-3 ms .. 1e6 ms
const MIN_MS = 1e-3;

export class Histogram {
  private readonly buckets = new Float64Array(BUCKETS_PER_DECADE * DECADES + 1);
  private count = 0;
  private sum = 0;
  private max = 0;

  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
    this.buckets[bucketOf(value)]! += 1;
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i += 1) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(upperBoundOf(i), this.max);
    }
    return this.max;
  }

  /**
   * Cumulative counts at each bound (ms, ascending): a value counts under a bound when its log
   * bucket's upper edge is at or below it, so a bound that is an edge (10^(k/20) µs) is exact and
   * any other is a lower estimate by at most one bucket (12%).
   */
  cumulative(boundsMs: readonly number[]): BucketCounts {
    const cumulative: number[] = [];
    let index = 0;
    let seen = 0;
    for (const bound of boundsMs) {
      // An edge computed twice may differ in its last bits: compare with a relative tolerance.
      while (index < this.buckets.length && upperBoundOf(index) <= bound * (1 + 1e-9)) seen += this.buckets[index++]!;
      cumulative.push(seen);
    }
    return { cumulative, count: this.count, sum: this.sum };
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      max: this.max,
      mean: this.count === 0 ? 0 : this.sum / this.count,
    };
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  const index = Math.ceil(Math.log10(ms / MIN_MS) * BUCKETS_PER_DECADE);
  return Math.min(index, BUCKETS_PER_DECADE * DECADES);
}

function upperBoundOf(index: number): number {
  return MIN_MS * 10 ** (index / BUCKETS_PER_DECADE);
}

/** What one process has seen of its own writes; `stats` and the stress harness read it. */
export class WriteMetrics {
  readonly lockWait = new Histogram();
  readonly lockHold = new Histogram();
  transactions = 0;
  busyRetries = 0;
  lockTimeouts = 0;
  failures = 0;

  buckets(boundsMs: readonly number[]): { lockWaitMs: BucketCounts; lockHoldMs: BucketCounts } {
    return { lockWaitMs: this.lockWait.cumulative(boundsMs), lockHoldMs: this.lockHold.cumulative(boundsMs) };
  }

  snapshot(): WriteMetricsSnapshot {
    return {
      transactions: this.transactions,
      busyRetries: this.busyRetries,
      lockTimeouts: this.lockTimeouts,
      failures: this.failures,
      lockWaitMs: this.lockWait.summary(),
      lockHoldMs: this.lockHold.summary(),
    };
  }
}
