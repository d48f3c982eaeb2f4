/**
 * The PostgreSQL faults (faults.ts dispatches): what a server does to its clients.
 *  - pg-kill: pg_terminate_backend of workers' connections, preferring those inside a
 *    transaction (the client sees 57P01 or a closed socket; the transaction rolls back — or,
 *    cut during COMMIT, may have committed unheard).
 *  - pg-timeout: an outside transaction holds the tasks table in EXCLUSIVE mode (reads go on,
 *    every write and claim waits) for longer than the workers' statement_timeout: their
 *    statements are cancelled (57014) until it lets go.
 *  - pg-restart: `pg_ctl restart -m fast` of the server the harness started (--pg-private):
 *    every connection cut, the server away for a moment, then back.
 */
import { pgPool } from '@tasklock/core/postgres';
import type { PgServer } from './pg-server.js';
import type { Random } from './random.js';

export const PG_FAULTS = ['pg-kill', 'pg-timeout', 'pg-restart'] as const;
export type PgFault = (typeof PG_FAULTS)[number];

export function isPgFault(fault: string): fault is PgFault {
  return (PG_FAULTS as readonly string[]).includes(fault);
}

export interface PgFaultContext {
  url: string;
  /** The server the harness started (--pg-private), the only one it may restart; null for an outside server. */
  server: PgServer | null;
  statementTimeoutMs: number;
  random: Random;
}

export async function injectPg(fault: PgFault, context: PgFaultContext): Promise<{ detail: string; skipped?: string }> {
  switch (fault) {
    case 'pg-kill':
      return withAdmin(context.url, async (query) => {
        // Poll briefly for backends inside a transaction, the moment this fault is after.
        const deadline = Date.now() + 2000;
        let victims: { pid: number; application_name: string; state: string }[] = [];
        while (Date.now() < deadline) {
          victims = await query(
            `SELECT pid, application_name, state FROM pg_stat_activity
             WHERE datname = current_database() AND application_name LIKE 'stress-%' AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')`,
          );
          if (victims.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (victims.length === 0) {
          victims = await query("SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'stress-%'");
        }
        if (victims.length === 0) return { detail: '', skipped: 'no worker connection to cut' };
        const chosen = victims.filter(() => context.random.next() < 0.5).slice(0, 3);
        if (chosen.length === 0) chosen.push(context.random.pick(victims));
        await query(`SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[${chosen.map((v) => v.pid).join(',')}]::int[]) AS pid`);
        const inTransaction = chosen.filter((v) => v.state !== 'idle').length;
        return { detail: `pg_terminate_backend of ${chosen.length} connection(s) of ${[...new Set(chosen.map((v) => v.application_name))].join(', ')} (${inTransaction} mid-transaction)` };
      });
    case 'pg-timeout': {
      const holdMs = context.random.int(2 * context.statementTimeoutMs, 4 * context.statementTimeoutMs);
      return withAdmin(context.url, async (query) => {
        await query('BEGIN');
        await query('LOCK TABLE tasklock.tasks IN EXCLUSIVE MODE');
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        await query('ROLLBACK');
        return { detail: `tasks table held in EXCLUSIVE mode ${holdMs} ms (workers' statement_timeout ${context.statementTimeoutMs} ms)` };
      });
    }
    case 'pg-restart': {
      if (context.server === null) return { detail: '', skipped: 'needs --pg-private (the harness restarts only a server it started)' };
      const began = performance.now();
      await context.server.restart();
      return { detail: `server restarted (pg_ctl restart -m fast) in ${Math.round(performance.now() - began)} ms` };
    }
  }
}

type Query = <T>(sql: string) => Promise<T[]>;

/** One outside connection for the fault's statements (the store's pool kind, so its errors are typed). */
async function withAdmin<T>(url: string, fn: (query: Query) => Promise<T>): Promise<T> {
  const pool = pgPool(url, 1);
  try {
    const client = await pool.connect();
    try {
      return await fn(async <R>(sql: string) => (await client.query(sql)).rows as R[]);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}
