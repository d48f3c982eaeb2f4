/**
 * The Prometheus registry of a queue (and, optionally, a worker running on it): what
 * `tasklock metrics` prints and what a dashboard serves at /metrics. Every value is read when
 * scraped (scraped-metric.ts). prom-client is imported here, on first use, so a process that
 * never builds a registry never loads it (nor what it loads).
 */
import type { Registry } from 'prom-client';
import type { Queue } from '../queue.js';
import type { Worker } from '../worker.js';
import { storeMetrics } from './store-metrics.js';
import { workerMetrics } from './worker-metrics.js';
import { writePathMetrics } from './write-path-metrics.js';

export interface MetricsRegistryOptions {
  /** A worker running in this process on `queue`: its in-process counters and handler durations are added. */
  worker?: Worker;
  /** Register into this registry (e.g. one that also holds prom-client's default process metrics) instead of a new one. */
  registry?: Registry;
}

export async function buildMetricsRegistry(queue: Queue, options: MetricsRegistryOptions = {}): Promise<Registry> {
  const { Registry: PromRegistry } = await import('prom-client');
  const registry = options.registry ?? new PromRegistry();
  const metrics = [...storeMetrics(queue), ...writePathMetrics(queue), ...(options.worker ? workerMetrics(options.worker) : [])];
  // Registry.registerMetric takes any object of this shape (name, help, type, get()); prom-client's
  // types name only its own classes, whose values are set by the caller rather than read at scrape.
  for (const metric of metrics) registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return registry;
}
