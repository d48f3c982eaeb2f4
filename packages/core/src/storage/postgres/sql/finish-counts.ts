/**
 * finish_counts: how many attempts ended per epoch second, task type and outcome, written in
 * the transaction that ends them (the live view's source on SQLite; see sqlite/sql/finish-counts.ts).
 */
import type { RunOutcome } from '../../rows.js';
import type { Client } from './fragments.js';

export type EndOutcome = Extract<RunOutcome, 'succeeded' | 'failed' | 'retry' | 'released'>;

/** Counts `count` ends of `type` with `outcome` at `now` (epoch ms). */
export async function countFinish(client: Client, now: number, type: string, outcome: EndOutcome, count = 1): Promise<void> {
  await client.query(
    `INSERT INTO tasklock.finish_counts (second, type, outcome, count) VALUES ($1, $2, $3, $4)
     ON CONFLICT (second, type, outcome) DO UPDATE SET count = finish_counts.count + excluded.count`,
    [Math.floor(now / 1000), type, outcome, count],
  );
}
