/**
 * The numbers of a live view (`tasklock stats --watch`), read every interval at a cost bounded by
 * the live set and the transitions since the last look, never by the finished tasks a long-lived
 * queue piles up (sql/monitor.ts says which index serves which read):
 *
 *  - pending / scheduled / running: recounted every sample from the partial indexes;
 *  - succeeded / failed / cancelled: counted once, then kept up to date from what moved since
 *    (a move into a terminal status adds one, a retry out of it takes one off), and re-based
 *    every `rebaseEveryMs`, since a purge deletes tasks without writing an event;
 *  - what moved, two sources: the stored events (reclaim, cancel, operator retry), folded in by
 *    a rowid cursor, and the ends of runs (complete, fail, release), which are not stored as
 *    events (schema 6) but counted per second, type and outcome in finish_counts: each sample
 *    re-reads the last COUNT_WINDOW_S seconds of counts and folds in what grew since it last
 *    looked. The first sample finds where the last minute of events begins by a binary search
 *    on the rowid (events are appended in commit order, so `at` grows with the id, give or take
 *    a wait for the lock).
 *
 * Each sample's reads share one snapshot (a read transaction; nothing is written), so a task
 * that finishes meanwhile is counted once, as running or as finished.
 */
import type { TasklockDatabase } from './database.js';
import type { MonitorSample, StoreMonitor } from '../store.js';
import type { EndOutcome } from './sql/finish-counts.js';
import { prepareMonitor, type EventGroupRow, type MonitorStatements } from './sql/monitor.js';
import { zeroCounts, type StatusView } from '../../status-view.js';
import { isTerminal, type TaskStatus } from '../../task-state.js';

const MINUTE_S = 60;
/** Seconds of finish_counts re-read each sample: a count may still grow while its second is this recent (a writer's clock, a wait for the lock). */
const COUNT_WINDOW_S = 120;

/** The transition each counted end is, as its derived event says. */
const END_OF: Record<EndOutcome, Pick<EventGroupRow, 'transition' | 'from' | 'to'>> = {
  succeeded: { transition: 'complete', from: 'running', to: 'succeeded' },
  failed: { transition: 'fail', from: 'running', to: 'failed' },
  retry: { transition: 'fail', from: 'running', to: 'pending' },
  released: { transition: 'release', from: 'running', to: 'pending' },
};

export class SqliteMonitor implements StoreMonitor {
  private readonly sql: MonitorStatements;
  /** type → terminal status → count. */
  private terminal = new Map<string, Map<TaskStatus, number>>();
  /** Events up to this id are folded in. */
  private cursor = 0;
  /** finish_counts rows of the window as last folded in: "second type outcome" → count. */
  private readonly counted = new Map<string, { second: number; count: number }>();
  /** Epoch second → failed attempts (and final ones) in it; seconds older than a minute are dropped. */
  private readonly failures = new Map<number, { attempts: number; final: number }>();
  private previousAt: number | null = null;
  private rebasedAt: number | null = null;

  constructor(
    db: TasklockDatabase,
    private readonly rebaseEveryMs = 60_000,
  ) {
    this.sql = prepareMonitor(db.connection);
  }

  async sample(): Promise<MonitorSample> {
    return this.sql.snapshot(() => {
      const now = Date.now();
      const upto = this.sql.lastEventId();
      let finished = 0;
      const since = Math.floor(now / 1000) - COUNT_WINDOW_S;
      if (this.rebasedAt === null) {
        this.foldEvents(this.firstEventSince(now - MINUTE_S * 1000, upto) - 1, upto, false);
        this.foldCounts(since, false);
        this.rebase(now);
      } else if (now - this.rebasedAt >= this.rebaseEveryMs) {
        finished = this.foldEvents(this.cursor, upto, false) + this.foldCounts(since, false);
        this.rebase(now);
      } else {
        finished = this.foldEvents(this.cursor, upto, true) + this.foldCounts(since, true);
      }
      this.cursor = upto;
      for (const second of this.failures.keys()) if (second <= Math.floor(now / 1000) - MINUTE_S) this.failures.delete(second);
      const sample = this.assemble(now, finished);
      this.previousAt = now;
      return sample;
    });
  }

  private assemble(now: number, finished: number): MonitorSample {
    const counts = zeroCounts();
    const byType: Record<string, Record<StatusView, number>> = {};
    const add = (type: string, status: StatusView, count: number) => {
      counts[status] += count;
      (byType[type] ??= zeroCounts())[status] += count;
    };
    let oldest: number | null = null;
    for (const row of this.sql.live(now)) {
      add(row.type, row.status, row.count);
      if (row.oldest !== null && (oldest === null || row.oldest < oldest)) oldest = row.oldest;
    }
    const runningByWorker: Record<string, number> = {};
    for (const row of this.sql.running()) {
      add(row.type, 'running', row.count);
      runningByWorker[row.worker] = (runningByWorker[row.worker] ?? 0) + row.count;
    }
    for (const [type, statuses] of this.terminal) for (const [status, count] of statuses) if (count > 0) add(type, status, count);
    const failuresLastMinute = { attempts: 0, final: 0 };
    for (const bucket of this.failures.values()) {
      failuresLastMinute.attempts += bucket.attempts;
      failuresLastMinute.final += bucket.final;
    }
    return {
      at: now,
      counts,
      byType,
      finished,
      finishedPerSecond: this.previousAt === null ? null : (finished * 1000) / Math.max(1, now - this.previousAt),
      oldestDueAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
      runningByWorker,
      failuresLastMinute,
    };
  }

  /** Folds events in (after, upto]; returns how many tasks finished (succeeded or failed) among them. */
  private foldEvents(after: number, upto: number, totals: boolean): number {
    let finished = 0;
    for (const group of this.sql.events(after, upto)) finished += this.fold(group, totals);
    return finished;
  }

  /** Folds in what each finish_counts row of seconds ≥ `since` grew by since the last look; returns the tasks finished among it. */
  private foldCounts(since: number, totals: boolean): number {
    let finished = 0;
    for (const row of this.sql.finishCounts(since)) {
      const key = `${row.second} ${row.type} ${row.outcome}`;
      const grown = row.count - (this.counted.get(key)?.count ?? 0);
      this.counted.set(key, { second: row.second, count: row.count });
      if (grown > 0) finished += this.fold({ ...END_OF[row.outcome], type: row.type, second: row.second, count: grown }, totals);
    }
    for (const [key, { second }] of this.counted) if (second < since) this.counted.delete(key);
    return finished;
  }

  private fold(group: EventGroupRow, totals: boolean): number {
    if (group.transition === 'fail' || group.transition === 'reclaim') {
      const bucket = this.failures.get(group.second) ?? { attempts: 0, final: 0 };
      bucket.attempts += group.count;
      if (group.to === 'failed') bucket.final += group.count;
      this.failures.set(group.second, bucket);
    }
    if (totals) {
      if (isTerminal(group.to)) this.addTerminal(group.type, group.to, group.count);
      if (group.from !== null && isTerminal(group.from)) this.addTerminal(group.type, group.from, -group.count);
    }
    return group.to === 'succeeded' || group.to === 'failed' ? group.count : 0;
  }

  private rebase(now: number): void {
    this.terminal = new Map();
    for (const row of this.sql.terminal()) this.addTerminal(row.type, row.status, row.count);
    this.rebasedAt = now;
  }

  private addTerminal(type: string, status: TaskStatus, count: number): void {
    const statuses = this.terminal.get(type) ?? new Map<TaskStatus, number>();
    statuses.set(status, (statuses.get(status) ?? 0) + count);
    this.terminal.set(type, statuses);
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
