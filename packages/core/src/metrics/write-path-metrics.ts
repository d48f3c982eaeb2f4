/**
 * This process's writes through its store handle (the store's writeMetrics()): transactions,
 * BUSY retries, lock timeouts, failures, and how long each write waited for the right to write
 * and held it (SQLite: the write lock; PostgreSQL: the write path's wait for a connection and
 * its transaction). Per process: each scraping process reports its own.
 */
import type { Queue } from '../queue.js';
import { histogramSamples, LATENCY_BOUNDS_MS, ScrapedMetric } from './scraped-metric.js';

export function writePathMetrics(queue: Queue): ScrapedMetric[] {
  const store = queue.store;
  const counter = (name: string, help: string, of: (m: ReturnType<typeof store.writeMetrics>) => number) =>
    new ScrapedMetric(name, help, 'counter', () => [{ labels: {}, value: of(store.writeMetrics()) }]);
  return [
    counter('tasklock_write_transactions_total', 'Write transactions committed by this process.', (m) => m.transactions),
    counter('tasklock_write_busy_retries_total', 'Write transactions tried again because the engine said busy.', (m) => m.busyRetries),
    counter('tasklock_write_lock_timeouts_total', 'Writes that gave up waiting for the write lock.', (m) => m.lockTimeouts),
    counter('tasklock_write_failures_total', 'Write transactions that failed.', (m) => m.failures),
    new ScrapedMetric('tasklock_write_lock_wait_seconds', "Time this process's writes waited for the right to write.", 'histogram', () =>
      histogramSamples('tasklock_write_lock_wait_seconds', {}, LATENCY_BOUNDS_MS, store.writeLatencyBuckets(LATENCY_BOUNDS_MS).lockWaitMs),
    ),
    new ScrapedMetric('tasklock_write_lock_hold_seconds', "Time this process's write transactions held it.", 'histogram', () =>
      histogramSamples('tasklock_write_lock_hold_seconds', {}, LATENCY_BOUNDS_MS, store.writeLatencyBuckets(LATENCY_BOUNDS_MS).lockHoldMs),
    ),
  ];
}
