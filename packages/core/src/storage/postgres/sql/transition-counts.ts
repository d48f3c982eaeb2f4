/**
 * transitionCounts: how many times each transition happened, per task type, over the tasks still
 * stored — the event log (task_event_log: derived enqueues, claims and run ends, stored reclaims,
 * cancels and retries) counted whole. One consistent read; a full scan of tasks, runs and events,
 * for an occasional snapshot (`tasklock metrics`, a scrape), never a worker's loop. A purge
 * deletes tasks with their runs and events, so the counts can go down.
 */
import type { TransitionCountRow } from '../../rows.js';
import type { Queryable } from './fragments.js';

export async function transitionCounts(db: Queryable): Promise<TransitionCountRow[]> {
  const { rows } = await db.query<TransitionCountRow>(
    `SELECT e.transition, t.type, count(*)::int AS count
     FROM tasklock.task_event_log AS e JOIN tasklock.tasks AS t ON t.id = e.task_id
     GROUP BY e.transition, t.type ORDER BY e.transition, t.type`,
  );
  return rows;
}
