/**
 * How long a worker's handlers ran, per task type: one fixed-size log histogram per type
 * (write-metrics.ts), recorded with a number add — no metrics library on the hot path; the
 * registry reads the buckets when scraped.
 */
import { Histogram } from '../storage/write-metrics.js';
import type { BucketCounts } from '../storage/store.js';

export class HandlerDurations {
  private readonly byType = new Map<string, Histogram>();

  record(type: string, ms: number): void {
    let histogram = this.byType.get(type);
    if (histogram === undefined) this.byType.set(type, (histogram = new Histogram()));
    histogram.record(ms);
  }

  buckets(boundsMs: readonly number[]): Map<string, BucketCounts> {
    return new Map([...this.byType].map(([type, histogram]) => [type, histogram.cumulative(boundsMs)]));
  }
}
