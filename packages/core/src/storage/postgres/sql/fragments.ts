/**
 * Clauses and helpers several statements share, named once so that they cannot drift apart.
 */
import type pg from 'pg';
import { CHANGE_CHANNEL, END_CHANNEL } from '../pg-change-signal.js';

/** A connection inside a transaction (pg-write.ts), or for one consistent read. */
export type Client = pg.ClientBase;
/** Anything that runs a statement: a transaction's client, or the pool for a single-statement read. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** The server's clock, in whole epoch milliseconds (schema.ts). */
export const NOW = 'tasklock.now_ms()';

/** Leaving `running`: the lease columns are set exactly in that status (the tasks CHECK says so). */
export const CLEAR_LEASE = 'lease_token = NULL, lease_expires_at = NULL, locked_by = NULL';

/** A task of the types in the text[] parameter $n, or of any type when it is NULL. */
export function typesIn(n: number): string {
  return `($${n}::text[] IS NULL OR type = ANY($${n}::text[]))`;
}

/** A worker holding running tasks is never pruned: its row names who held them. */
export const HOLDS_TASKS = "id IN (SELECT locked_by FROM tasklock.tasks WHERE status = 'running')";

/** The server's now, read once for a transaction that stamps several rows with the same instant. */
export async function nowOf(client: Queryable): Promise<number> {
  return (await client.query<{ ms: number }>(`SELECT ${NOW} AS ms`)).rows[0]!.ms;
}

/** Wakes the waiters of other processes (pg-change-signal.ts) once this transaction commits. */
export async function notifyChange(client: Client): Promise<void> {
  await client.query(`NOTIFY ${CHANGE_CHANNEL}`);
}

/** Wakes other processes' waiters for ends (waitFor, the event stream) once this transaction commits. */
export async function notifyEnd(client: Client): Promise<void> {
  await client.query(`NOTIFY ${END_CHANNEL}`);
}

/**
 * A select-list expression for the completions' one statement: NOTIFYs END_CHANNEL once if the
 * CTE `cte` has a row — the completed tasks someone waits for (tasklock.awaited, written by
 * waitFor: event-xid.ts) — an uncorrelated subquery runs once per statement, not per row. Only then: a commit that
 * notifies queues on the server's one notification lock, and notifying every completion batch
 * cost 4 workers a quarter of their throughput (3990 → 2971 tasks/s, alternated A/B, loaded machine).
 */
export function notifyEndIfAwaited(cte: string): string {
  return `(SELECT count(pg_notify('${END_CHANNEL}', '')) FROM (SELECT FROM ${cte} LIMIT 1) AS awaited_row)`;
}

/**
 * A hot statement by name: node-postgres prepares it once per connection (PostgreSQL parses and
 * plans it once, not at every call). The text must be constant for the name.
 */
export function prepared(name: string, text: string): (values: unknown[]) => { name: string; text: string; values: unknown[] } {
  const qualified = `tasklock.${name}`;
  return (values) => ({ name: qualified, text, values });
}
