/**
 * The live view's reads (monitor.ts), asked every interval, so each is bounded by what is live or
 * new, never by the finished tasks a long-lived queue piles up:
 *   live      pending tasks by type, due or scheduled, and the oldest due run_at: walks the
 *             tasks_claimable partial index (the pending set) with a row lookup for the type
 *   running   running tasks by type and worker: the tasks_running_by_lease partial index
 *   events    transitions committed after a cursor, grouped: a rowid range of task_events, each
 *             joined to its task by primary key (purged tasks' events are gone with them)
 *   eventAt   the first event at or after an id (a rowid probe), to find where the last minute begins
 *   finishCounts  ends of runs per second, type and outcome since a second: a primary-key range
 *             of finish_counts (the ends are not stored as events since schema 6)
 * `terminal` counts finished tasks by a full scan: run once when the view starts and rarely
 * after (a purge deletes rows without an event, so the counts are re-based now and then).
 * The test suite asserts each per-interval statement's plan (EXPLAIN QUERY PLAN).
 */
import type Database from 'better-sqlite3';
import type { TaskStatus } from '../../../task-state.js';
import type { EventGroupRow, FinishCountRow, LiveRow, RunningRow } from '../../live-counts.js';
import { FINISH_COUNTS_SINCE_SQL } from './finish-counts.js';

export const MONITOR_SQL = {
  live: `SELECT type, CASE WHEN run_at > @now THEN 'scheduled' ELSE 'pending' END AS status, count(*) AS count,
                min(run_at) FILTER (WHERE run_at <= @now) AS oldest
         FROM tasks INDEXED BY tasks_claimable WHERE status = 'pending' GROUP BY type, 2`,
  running: `SELECT type, locked_by AS worker, count(*) AS count
            FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running' GROUP BY type, locked_by`,
  events: `SELECT e.transition, e.from_status AS "from", e.to_status AS "to", t.type, e.at / 1000 AS second, count(*) AS count
           FROM task_events e JOIN tasks t ON t.id = e.task_id
           WHERE e.id > @after AND e.id <= @upto
             AND (e.transition IN ('fail', 'reclaim') OR e.to_status IN ('succeeded', 'failed', 'cancelled')
                  OR e.from_status IN ('succeeded', 'failed', 'cancelled'))
           GROUP BY 1, 2, 3, 4, 5`,
  eventAt: 'SELECT id, at FROM task_events WHERE id >= ? ORDER BY id LIMIT 1',
  finishCounts: FINISH_COUNTS_SINCE_SQL,
} as const;

export function prepareMonitor(db: Database.Database) {
  const live = db.prepare<{ now: number }, LiveRow>(MONITOR_SQL.live);
  const running = db.prepare<[], RunningRow>(MONITOR_SQL.running);
  const events = db.prepare<{ after: number; upto: number }, EventGroupRow>(MONITOR_SQL.events);
  const eventAt = db.prepare<[number], { id: number; at: number }>(MONITOR_SQL.eventAt);
  const finishCounts = db.prepare<[number], FinishCountRow>(MONITOR_SQL.finishCounts);
  const lastEvent = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM task_events');
  const terminal = db.prepare<[], { type: string; status: TaskStatus; count: number }>(
    "SELECT type, status, count(*) AS count FROM tasks WHERE status IN ('succeeded', 'failed', 'cancelled') GROUP BY type, status",
  );
  return {
    live: (now: number) => live.all({ now }),
    running: () => running.all(),
    events: (after: number, upto: number) => events.all({ after, upto }),
    eventAt: (id: number) => eventAt.get(id),
    finishCounts: (sinceSecond: number) => finishCounts.all(sinceSecond),
    lastEventId: () => lastEvent.get()?.id ?? 0,
    terminal: () => terminal.all(),
    /** Runs `fn` in one read transaction: its statements see one snapshot. Never writes. */
    snapshot: <T>(fn: () => T): T => db.transaction(fn).deferred(),
  };
}

export type MonitorStatements = ReturnType<typeof prepareMonitor>;
