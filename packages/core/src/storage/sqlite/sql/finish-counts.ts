/**
 * finish_counts: how many attempts ended per epoch second, task type and outcome (schema 6).
 * Written in the transaction that ends them, one upsert per (type, outcome) of a batch; read by
 * the live view (monitor.ts) as a bounded window of recent seconds, in place of scanning the
 * end events the log derives from runs. A count only grows while its second is recent; rows
 * older than RETAIN_S are pruned by the writers, at most once a minute per store.
 */
import type Database from 'better-sqlite3';
import type { EndOutcome } from '../../live-counts.js';

const RETAIN_S = 3600;
const PRUNE_EVERY_S = 60;

export const COUNT_FINISHES_SQL = `
  INSERT INTO finish_counts (second, type, outcome, count) VALUES (@second, @type, @outcome, @count)
  ON CONFLICT DO UPDATE SET count = count + excluded.count`;

export const FINISH_COUNTS_SINCE_SQL = 'SELECT second, type, outcome, count FROM finish_counts WHERE second >= ?';

export function prepareFinishCounts(db: Database.Database) {
  const add = db.prepare<{ second: number; type: string; outcome: EndOutcome; count: number }>(COUNT_FINISHES_SQL);
  const prune = db.prepare<[number]>('DELETE FROM finish_counts WHERE second < ?');
  // Pacing only: a rolled-back transaction that advanced it delays the next prune by a minute.
  let prunedAt = 0;
  return {
    /** Counts `count` ends of `type` with `outcome` at `now` (epoch ms). */
    add(now: number, type: string, outcome: EndOutcome, count = 1): void {
      const second = Math.floor(now / 1000);
      add.run({ second, type, outcome, count });
      if (second - prunedAt >= PRUNE_EVERY_S) {
        prune.run(second - RETAIN_S);
        prunedAt = second;
      }
    },
    /** Counts each type of `types` (one entry per ended task) under `outcome`. */
    addEach(now: number, types: readonly string[], outcome: EndOutcome): void {
      const byType = new Map<string, number>();
      for (const type of types) byType.set(type, (byType.get(type) ?? 0) + 1);
      for (const [type, count] of byType) this.add(now, type, outcome, count);
    },
  };
}

export type FinishCountStatements = ReturnType<typeof prepareFinishCounts>;
