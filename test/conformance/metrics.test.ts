import { describe, expect, it } from 'vitest';
import { buildMetricsRegistry, Worker } from '@tasklock/core';
import { parsePrometheusText, sampleValue } from '../utils/prometheus-text.js';
import { forEachStore } from './stores.js';

forEachStore((store) => {
  describe('the metrics registry with a worker (buildMetricsRegistry(queue, { worker }))', () => {
    it("exports the worker's own counters and handler durations per type, read at scrape", async () => {
      const queue = await store.open();
      for (let i = 0; i < 3; i += 1) await queue.enqueue('fast', { i });
      await queue.enqueue('broken', {}, { maxAttempts: 1 });
      const worker = new Worker(
        queue,
        async (_payload, ctx) => {
          if (ctx.task.type === 'broken') throw new Error('broken on purpose');
          // A measurable run: the histogram must place it past the 10 ms bound.
          await new Promise((resolve) => setTimeout(resolve, 15));
          return null;
        },
        { untilEmpty: true, untilEmptyWaitMs: 0, log: () => undefined },
      );
      const registry = await buildMetricsRegistry(queue, { worker });
      const before = parsePrometheusText(await registry.metrics());
      expect(sampleValue(before, 'tasklock_worker_tasks_total', { event: 'succeeded' })).toBe(0);
      expect(before.get('tasklock_handler_duration_seconds')!.samples).toEqual([]);

      const stats = await worker.start();
      const after = parsePrometheusText(await registry.metrics());
      const labels = { worker: worker.id };
      expect(sampleValue(after, 'tasklock_worker_tasks_total', { ...labels, event: 'claimed' })).toBe(stats.claimed);
      expect(sampleValue(after, 'tasklock_worker_tasks_total', { ...labels, event: 'succeeded' })).toBe(3);
      expect(sampleValue(after, 'tasklock_worker_tasks_total', { ...labels, event: 'failed' })).toBe(1);
      const duration = (type: string, name: string, extra: Record<string, string> = {}) =>
        sampleValue(after, 'tasklock_handler_duration_seconds', { ...labels, type, ...extra }, `tasklock_handler_duration_seconds_${name}`);
      expect(duration('fast', 'count')).toBe(3);
      expect(duration('broken', 'count')).toBe(1);
      expect(duration('fast', 'bucket', { le: '0.01' })).toBe(0);
      expect(duration('fast', 'bucket', { le: '+Inf' })).toBe(3);
      expect(duration('fast', 'sum')).toBeGreaterThanOrEqual(0.045);
      // The store-level series are in the same registry: the one a dashboard serves.
      expect(sampleValue(after, 'tasklock_tasks', { type: 'fast', status: 'succeeded' })).toBe(3);
      expect(sampleValue(after, 'tasklock_write_transactions_total')).toBe(queue.writeMetrics().transactions);
    });
  });
});
