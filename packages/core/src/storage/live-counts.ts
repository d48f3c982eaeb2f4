/**
 * The live view's arithmetic (`tasklock stats --watch`), the same for every store: each store's
 * monitor reads, in one snapshot, what is live now and what moved since its last look, and this
 * folds it into the numbers of a sample. Bounded by the live set and the moves since the last
 * look, never by the finished tasks a long-lived queue piles up:
 *
 *  - pending / scheduled / running: recounted every sample (the store reads them from its
 *    partial indexes);
 *  - succeeded / failed / cancelled: counted once, then kept up to date from what moved since
 *    (a move into a terminal status adds one, a retry out of it takes one off), and re-based
 *    every `rebaseEveryMs`, since a purge deletes tasks without writing an event;
 *  - what moved, two sources: groups of stored events (reclaim, cancel, operator retry) new since
 *    the store's cursor, and the ends of runs (complete, fail, release), which are not stored as
 *    events but counted per second, type and outcome in finish_counts: each sample re-reads the
 *    last COUNT_WINDOW_S seconds of counts and folds in what grew since it last looked.
 */
import { zeroCounts, type StatusView } from '../status-view.js';
import { isTerminal, type TaskStatus, type TransitionName } from '../task-state.js';
import type { MonitorSample } from './store.js';
import type { RunOutcome } from './rows.js';

export const MINUTE_S = 60;
/** Seconds of finish_counts re-read each sample: a count may still grow while its second is this recent (a writer's clock, a wait for the lock). */
export const COUNT_WINDOW_S = 120;

export type EndOutcome = Extract<RunOutcome, 'succeeded' | 'failed' | 'retry' | 'released'>;

export interface FinishCountRow {
  second: number;
  type: string;
  outcome: EndOutcome;
  count: number;
}

/** Stored events of one kind, type and second. */
export interface EventGroupRow {
  transition: TransitionName;
  from: TaskStatus | null;
  to: TaskStatus;
  type: string;
  /** Seconds since the epoch of the events' `at`. */
  second: number;
  count: number;
}

export interface LiveRow {
  type: string;
  status: 'pending' | 'scheduled';
  count: number;
  oldest: number | null;
}

export interface RunningRow {
  type: string;
  worker: string;
  count: number;
}

export interface TerminalRow {
  type: string;
  status: TaskStatus;
  count: number;
}

/** What a store's monitor read for one sample, all in one snapshot. */
export interface SampleReads {
  /** The store's clock at the snapshot. */
  now: number;
  /** Stored events new since the last sample (on the first: those of the last minute). */
  events: readonly EventGroupRow[];
  /** finish_counts rows of seconds ≥ countsSince(now). */
  finishCounts: readonly FinishCountRow[];
  live: readonly LiveRow[];
  running: readonly RunningRow[];
  /** Counted when wantsRebase(now) said so, else null. */
  terminal: readonly TerminalRow[] | null;
}

/** The transition each counted end is, as its derived event says. */
const END_OF: Record<EndOutcome, Pick<EventGroupRow, 'transition' | 'from' | 'to'>> = {
  succeeded: { transition: 'complete', from: 'running', to: 'succeeded' },
  failed: { transition: 'fail', from: 'running', to: 'failed' },
  retry: { transition: 'fail', from: 'running', to: 'pending' },
  released: { transition: 'release', from: 'running', to: 'pending' },
};

export class LiveCounts {
  /** type → terminal status → count. */
  private terminal = new Map<string, Map<TaskStatus, number>>();
  /** finish_counts rows of the window as last folded in: "second type outcome" → count. */
  private readonly counted = new Map<string, { second: number; count: number }>();
  /** Epoch second → failed attempts (and final ones) in it; seconds older than a minute are dropped. */
  private readonly failures = new Map<number, { attempts: number; final: number }>();
  private previousAt: number | null = null;
  private rebasedAt: number | null = null;

  constructor(private readonly rebaseEveryMs = 60_000) {}

  /** No sample yet: the store reads the last minute of events, and the terminal counts. */
  get first(): boolean {
    return this.rebasedAt === null;
  }

  /** Whether this sample must count the terminal statuses anew (the first, and every rebaseEveryMs). */
  wantsRebase(now: number): boolean {
    return this.rebasedAt === null || now - this.rebasedAt >= this.rebaseEveryMs;
  }

  /** The first second of finish_counts a sample at `now` reads. */
  countsSince(now: number): number {
    return Math.floor(now / 1000) - COUNT_WINDOW_S;
  }

  sample(reads: SampleReads): MonitorSample {
    const { now } = reads;
    // Folded into the totals only between re-bases: a re-base's counts already hold them.
    const totals = reads.terminal === null;
    const first = this.first;
    let finished = 0;
    for (const group of reads.events) finished += this.fold(group, totals);
    finished += this.foldCounts(reads.finishCounts, this.countsSince(now), totals);
    if (first) finished = 0;
    if (reads.terminal !== null) {
      this.terminal = new Map();
      for (const row of reads.terminal) this.addTerminal(row.type, row.status, row.count);
      this.rebasedAt = now;
    }
    for (const second of this.failures.keys()) if (second <= Math.floor(now / 1000) - MINUTE_S) this.failures.delete(second);
    const sample = this.assemble(reads, finished);
    this.previousAt = now;
    return sample;
  }

  private assemble(reads: SampleReads, finished: number): MonitorSample {
    const { now } = reads;
    const counts = zeroCounts();
    const byType: Record<string, Record<StatusView, number>> = {};
    const add = (type: string, status: StatusView, count: number) => {
      counts[status] += count;
      (byType[type] ??= zeroCounts())[status] += count;
    };
    let oldest: number | null = null;
    for (const row of reads.live) {
      add(row.type, row.status, row.count);
      if (row.oldest !== null && (oldest === null || row.oldest < oldest)) oldest = row.oldest;
    }
    const runningByWorker: Record<string, number> = {};
    for (const row of reads.running) {
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

  /** Folds in what each finish_counts row grew by since the last look; returns the tasks finished among it. */
  private foldCounts(rows: readonly FinishCountRow[], since: number, totals: boolean): number {
    let finished = 0;
    for (const row of rows) {
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

  private addTerminal(type: string, status: TaskStatus, count: number): void {
    const statuses = this.terminal.get(type) ?? new Map<TaskStatus, number>();
    statuses.set(status, (statuses.get(status) ?? 0) + count);
    this.terminal.set(type, statuses);
  }
}
