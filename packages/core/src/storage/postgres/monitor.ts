/**
 * The PostgreSQL store's live view (`tasklock stats --watch`): one REPEATABLE READ, read-only
 * transaction per sample (one snapshot: a task that finishes meanwhile is counted once), its
 * clock the server's, folded by live-counts.ts as SQLite's is.
 *
 * Stored events cannot be followed by an id cursor here: an identity value is taken when a row
 * is inserted, not when its transaction commits, so an event with a lower id can become visible
 * after one with a higher id. Each sample re-reads the events above a floor ID_SLACK below the
 * highest id it has folded and folds those it has not seen (their ids are kept down to the
 * floor): an event committed late by fewer than ID_SLACK later events is still counted. Stored
 * events are the rare kinds (reclaim, cancel, operator retry), so the re-read stays small; the
 * first sample finds the last minute of events with one scan of task_events, as the terminal
 * counts are one scan of tasks.
 */
import type pg from 'pg';
import { LiveCounts, MINUTE_S, type EventGroupRow, type FinishCountRow, type LiveRow, type RunningRow, type TerminalRow } from '../live-counts.js';
import type { MonitorSample, StoreMonitor } from '../store.js';
import type { TaskStatus, TransitionName } from '../../task-state.js';

type Client = pg.ClientBase;
/** Runs `fn` in one read-only snapshot of the store. */
export type SnapshotRead = <T>(fn: (client: Client) => Promise<T>) => Promise<T>;

const ID_SLACK = 1000;

const SQL = {
  now: 'SELECT tasklock.now_ms() AS now',
  firstIdSince: 'SELECT min(id) AS id FROM tasklock.task_events WHERE at >= $1',
  events: `SELECT e.id, e.transition, e.from_status AS "from", e.to_status AS "to", t.type, e.at
           FROM tasklock.task_events e JOIN tasklock.tasks t ON t.id = e.task_id
           WHERE e.id > $1
             AND (e.transition IN ('fail', 'reclaim') OR e.to_status IN ('succeeded', 'failed', 'cancelled')
                  OR e.from_status IN ('succeeded', 'failed', 'cancelled'))
           ORDER BY e.id`,
  // Summed: a count may be kept in more than one row per (second, type, outcome).
  finishCounts: `SELECT second, type, outcome, sum(count)::bigint AS count FROM tasklock.finish_counts WHERE second >= $1 GROUP BY 1, 2, 3`,
  live: `SELECT type, CASE WHEN run_at > $1 THEN 'scheduled' ELSE 'pending' END AS status, count(*)::int AS count,
                min(run_at) FILTER (WHERE run_at <= $1) AS oldest
         FROM tasklock.tasks WHERE status = 'pending' GROUP BY 1, 2`,
  running: "SELECT type, locked_by AS worker, count(*)::int AS count FROM tasklock.tasks WHERE status = 'running' GROUP BY 1, 2",
  terminal: "SELECT type, status, count(*)::int AS count FROM tasklock.tasks WHERE status IN ('succeeded', 'failed', 'cancelled') GROUP BY 1, 2",
} as const;

interface EventRow {
  id: number;
  transition: TransitionName;
  from: TaskStatus | null;
  to: TaskStatus;
  type: string;
  at: number;
}

export class PgMonitor implements StoreMonitor {
  private readonly counts: LiveCounts;
  /** Ids of events folded in, down to the floor. */
  private readonly seen = new Set<number>();
  private highest = 0;

  constructor(
    private readonly read: SnapshotRead,
    rebaseEveryMs = 60_000,
  ) {
    this.counts = new LiveCounts(rebaseEveryMs);
  }

  sample(): Promise<MonitorSample> {
    return this.read(async (client) => {
      const now = (await client.query<{ now: number }>(SQL.now)).rows[0]!.now;
      let floor = this.highest - ID_SLACK;
      if (this.counts.first) floor = ((await client.query<{ id: number | null }>(SQL.firstIdSince, [now - MINUTE_S * 1000])).rows[0]?.id ?? Number.MAX_SAFE_INTEGER) - 1;
      const events = this.newEvents((await client.query<EventRow>(SQL.events, [Math.max(0, floor)])).rows, floor);
      return this.counts.sample({
        now,
        events,
        finishCounts: (await client.query<FinishCountRow>(SQL.finishCounts, [this.counts.countsSince(now)])).rows,
        live: (await client.query<LiveRow>(SQL.live, [now])).rows,
        running: (await client.query<RunningRow>(SQL.running)).rows,
        terminal: this.counts.wantsRebase(now) ? (await client.query<TerminalRow>(SQL.terminal)).rows : null,
      });
    });
  }

  /** The rows not folded before, grouped as the fold wants them; remembers them and forgets ids below the new floor. */
  private newEvents(rows: readonly EventRow[], floor: number): EventGroupRow[] {
    const groups = new Map<string, EventGroupRow>();
    for (const row of rows) {
      if (this.seen.has(row.id)) continue;
      this.seen.add(row.id);
      if (row.id > this.highest) this.highest = row.id;
      const second = Math.floor(row.at / 1000);
      const key = `${row.transition} ${row.from} ${row.to} ${row.type} ${second}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { transition: row.transition, from: row.from, to: row.to, type: row.type, second, count: 1 });
      else group.count += 1;
    }
    const keepFrom = Math.max(floor, this.highest - ID_SLACK);
    for (const id of this.seen) if (id <= keepFrom) this.seen.delete(id);
    return [...groups.values()];
  }
}
