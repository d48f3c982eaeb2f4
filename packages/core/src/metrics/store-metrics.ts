/**
 * What the store says, whoever wrote it: tasks by queue, type and status; the transitions of the
 * stored tasks' event log; reclaimed leases; each live worker's last heartbeat. Read from the
 * store at each scrape (one stats read, one event-log count, one workers read), so any process
 * — the `tasklock metrics` command, a dashboard — reports the same numbers.
 */
import type { Queue } from '../queue.js';
import { sharedRead, ScrapedMetric, type Sample } from './scraped-metric.js';

export function storeMetrics(queue: Queue): ScrapedMetric[] {
  const store = queue.store;
  const stats = sharedRead(async () => ({ now: Date.now(), read: await store.stats(Date.now()) }));
  const transitions = sharedRead(() => store.transitionCounts());
  return [
    new ScrapedMetric('tasklock_tasks', 'Tasks by queue, type and status (scheduled: pending, not yet due).', 'gauge', async () =>
      (await stats()).read.counts.map((row) => ({ labels: { queue: row.queue, type: row.type, status: row.status }, value: row.count })),
    ),
    new ScrapedMetric('tasklock_oldest_pending_age_seconds', 'How long the oldest due pending task has waited (0 when none).', 'gauge', async () => {
      const { now, read } = await stats();
      return [{ labels: {}, value: read.oldestDueRunAt === null ? 0 : Math.max(0, now - read.oldestDueRunAt) / 1000 }];
    }),
    new ScrapedMetric('tasklock_overdue_leases', 'Running tasks whose lease has expired (a sweep will take them back).', 'gauge', async () => [
      { labels: {}, value: (await stats()).read.overdueLeases },
    ]),
    new ScrapedMetric(
      'tasklock_transitions_total',
      "Transitions of the stored tasks by transition and type, from the event log (a purge deletes tasks' events: a drop is a reset).",
      'counter',
      async () => (await transitions()).map((row) => ({ labels: { transition: row.transition, type: row.type }, value: row.count })),
    ),
    new ScrapedMetric('tasklock_reclaimed_leases_total', 'Attempts taken back by a reclaim sweep (dead worker or expired lease), by type, over the stored tasks.', 'counter', async () =>
      (await transitions()).filter((row) => row.transition === 'reclaim').map((row) => ({ labels: { type: row.type }, value: row.count })),
    ),
    new ScrapedMetric('tasklock_worker_last_heartbeat_timestamp_seconds', 'Last heartbeat (last_seen) of each worker not stopped or crashed, epoch seconds.', 'gauge', async () => {
      const workers = await store.workers();
      return workers
        .filter((w) => w.stopped_at === null && w.crashed_at === null)
        .map((w): Sample => ({ labels: { worker: w.id, queue: w.queue, host: w.host }, value: w.last_seen / 1000 }));
    }),
  ];
}
