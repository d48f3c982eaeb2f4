/**
 * A metric whose values are read when it is scraped, in the shape prom-client's Registry takes
 * (name, help, type, get()): the store's counts and the worker's plain counters are the truth,
 * and nothing is kept or updated for Prometheus between scrapes — no prom-client call on the hot
 * path. prom-client's own Counter/Gauge/Histogram hold values they are told; ours are read.
 */
import type { BucketCounts } from '../storage/store.js';

export type Labels = Record<string, string>;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One sample as prom-client prints it: `metricName` set for a histogram's _bucket/_sum/_count lines. */
export interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

export interface MetricValues {
  name: string;
  help: string;
  type: MetricType;
  values: Sample[];
  aggregator: 'sum';
}

export class ScrapedMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly read: () => Promise<Sample[]> | Sample[],
  ) {}

  async get(): Promise<MetricValues> {
    return { name: this.name, help: this.help, type: this.type, values: await this.read(), aggregator: this.aggregator };
  }

  /** Nothing to reset: the values live in the store or the worker (Registry.resetMetrics calls this). */
  reset(): void {}
}

/** Histogram samples (seconds) for buckets counted in ms at `boundsMs`, as Prometheus wants them: cumulative, then +Inf, _sum, _count. */
export function histogramSamples(name: string, labels: Labels, boundsMs: readonly number[], buckets: BucketCounts): Sample[] {
  const samples: Sample[] = boundsMs.map((bound, i) => ({
    metricName: `${name}_bucket`,
    // The label is the bound to 4 significant digits (a half-decade edge is irrational in seconds).
    labels: { ...labels, le: String(Number((bound / 1000).toPrecision(4))) },
    value: buckets.cumulative[i]!,
  }));
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: buckets.count });
  samples.push({ metricName: `${name}_sum`, labels, value: buckets.sum / 1000 });
  samples.push({ metricName: `${name}_count`, labels, value: buckets.count });
  return samples;
}

/**
 * Histogram bounds in ms: half-decades from 10 µs to 100 s (…, 1, 3.16, 10, 31.6 ms, …). Each is
 * an edge of the recording histogram's log buckets (write-metrics.ts), so the counts are exact.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 15 }, (_, k) => 10 ** ((k - 4) / 2));

/** One read shared by every metric of a scrape: the registry asks all of them at once. */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
