/**
 * transitionCounts: how many times each transition happened, per task type, over the tasks still
 * stored — the event log (task_event_log: derived enqueues, claims and run ends, stored reclaims,
 * cancels and retries) counted whole. A read, no lock; a full scan of tasks, runs and events, for
 * an occasional snapshot (`tasklock metrics`, a scrape), never a worker's loop. A purge deletes
 * tasks with their runs and events, so the counts can go down.
 */
import type Database from 'better-sqlite3';
import type { TransitionCountRow } from '../../rows.js';

export function prepareTransitionCounts(db: Database.Database): () => TransitionCountRow[] {
  const counts = db.prepare<[], TransitionCountRow>(
    `SELECT e.transition, t.type, count(*) AS count
     FROM task_event_log AS e JOIN tasks AS t ON t.id = e.task_id
     GROUP BY e.transition, t.type ORDER BY e.transition, t.type`,
  );
  return () => counts.all();
}
