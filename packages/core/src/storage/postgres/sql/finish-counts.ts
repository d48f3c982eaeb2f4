/**
 * finish_counts: how many attempts ended per epoch second, task type and outcome, written in the
 * transaction that ends them (the live view's source; see sqlite/sql/finish-counts.ts). Each
 * connection adds to rows of its own (`writer` = its backend pid, schema version 2), so that
 * finishing transactions of different workers never wait on one another's count row: a reader
 * sums over `writer`. Rows older than RETAIN_S are pruned by the writers, at most once a minute
 * per store handle (the caller paces it: PRUNE_EVERY_MS).
 */
import type { RunOutcome } from '../../rows.js';
import type { Client } from './fragments.js';

export type EndOutcome = Extract<RunOutcome, 'succeeded' | 'failed' | 'retry' | 'released'>;

const RETAIN_S = 3600;
export const PRUNE_EVERY_MS = 60_000;

/** Adds $4 ends of type $2 with outcome $3 in epoch second $1, to this connection's row. */
export const COUNT_FINISHES_SQL = `
  INSERT INTO tasklock.finish_counts (second, type, outcome, writer, count) VALUES ($1, $2, $3, pg_backend_pid(), $4)
  ON CONFLICT (second, type, outcome, writer) DO UPDATE SET count = finish_counts.count + excluded.count`;

/** Counts `count` ends of `type` with `outcome` at `now` (epoch ms). */
export async function countFinish(client: Client, now: number, type: string, outcome: EndOutcome, count = 1): Promise<void> {
  await client.query(COUNT_FINISHES_SQL, [Math.floor(now / 1000), type, outcome, count]);
}

/** Deletes the counts of seconds more than RETAIN_S before the server's now. */
export async function pruneFinishCounts(client: Client): Promise<void> {
  await client.query(`DELETE FROM tasklock.finish_counts WHERE second < floor(tasklock.now_ms() / 1000) - ${RETAIN_S}`);
}
