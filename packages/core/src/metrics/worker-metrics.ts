/**
 * A running Worker's own counters (worker.stats(): what it claimed and how each attempt ended,
 * as the store accepted it), its running handlers and its handler durations per type. In-process
 * and since the worker started: the counters of a restarted worker start again at 0.
 */
import type { Worker, WorkerStats } from '../worker.js';
import { histogramSamples, LATENCY_BOUNDS_MS, ScrapedMetric, type Sample } from './scraped-metric.js';

/** WorkerStats counters exported as tasklock_worker_tasks_total{event}. */
const TASK_EVENTS = ['claimed', 'succeeded', 'failed', 'retried', 'released', 'rejected', 'aborted'] as const satisfies readonly (keyof WorkerStats)[];

export function workerMetrics(worker: Worker): ScrapedMetric[] {
  const labels = { worker: worker.id };
  return [
    new ScrapedMetric(
      'tasklock_worker_tasks_total',
      'Tasks this worker claimed and attempts it ended, by how (stored outcomes; rejected: refused by the fence; aborted: cancelled or lease lost).',
      'counter',
      () => {
        const stats = worker.stats();
        return TASK_EVENTS.map((event): Sample => ({ labels: { ...labels, event }, value: stats[event] }));
      },
    ),
    new ScrapedMetric('tasklock_worker_reclaimed_leases_total', "Tasks this worker's reclaim sweeps took back.", 'counter', () => [
      { labels, value: worker.stats().reclaimed },
    ]),
    new ScrapedMetric('tasklock_worker_running', 'Handlers this worker is running now.', 'gauge', () => [{ labels, value: worker.inFlight }]),
    new ScrapedMetric('tasklock_handler_duration_seconds', "How long this worker's handlers ran, by task type.", 'histogram', () =>
      [...worker.handlerDurations(LATENCY_BOUNDS_MS)].flatMap(([type, buckets]) =>
        histogramSamples('tasklock_handler_duration_seconds', { ...labels, type }, LATENCY_BOUNDS_MS, buckets),
      ),
    ),
  ];
}
