/**
 * The SQLite store's live view (`tasklock stats --watch`): one read transaction per sample
 * (its statements see one snapshot, so a task that finishes meanwhile is counted once, as
 * running or as finished), folded by live-counts.ts. Stored events are new since the last
 * sample by a rowid cursor: events are appended in commit order under the write lock, so `at`
 * grows with the id, give or take a wait for the lock, and the first sample finds where the
 * last minute of events begins by a binary search on the rowid. sql/monitor.ts says which index
 * serves which read.
 */
import type { TasklockDatabase } from './database.js';
import type { MonitorSample, StoreMonitor } from '../store.js';
import { LiveCounts, MINUTE_S } from '../live-counts.js';
import { prepareMonitor, type MonitorStatements } from './sql/monitor.js';

export class SqliteMonitor implements StoreMonitor {
  private readonly sql: MonitorStatements;
  private readonly counts: LiveCounts;
  /** Events up to this id are folded in. */
  private cursor = 0;

  constructor(db: TasklockDatabase, rebaseEveryMs = 60_000) {
    this.sql = prepareMonitor(db.connection);
    this.counts = new LiveCounts(rebaseEveryMs);
  }

  async sample(): Promise<MonitorSample> {
    return this.sql.snapshot(() => {
      const now = Date.now();
      const upto = this.sql.lastEventId();
      const after = this.counts.first ? this.firstEventSince(now - MINUTE_S * 1000, upto) - 1 : this.cursor;
      const sample = this.counts.sample({
        now,
        events: this.sql.events(after, upto),
        finishCounts: this.sql.finishCounts(this.counts.countsSince(now)),
        live: this.sql.live(now),
        running: this.sql.running(),
        terminal: this.counts.wantsRebase(now) ? this.sql.terminal() : null,
      });
      this.cursor = upto;
      return sample;
    });
  }

  /** The smallest event id whose event is at or after `since` (upto + 1 when none): a binary search by rowid. */
  private firstEventSince(since: number, upto: number): number {
    let low = 1;
    let high = upto + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const event = this.sql.eventAt(middle);
      if (event === undefined || event.at >= since) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
