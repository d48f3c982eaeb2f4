/**
 * A finished run's database, as the checker and the timings read it: the same SQL text on either
 * engine (tasklock's tables have the same names and columns on both; on PostgreSQL the session's
 * search_path is the `tasklock` schema), each engine's own connection, opened here and nowhere
 * else. Only the consistency check is the engine's own: SQLite's integrity_check and
 * foreign_key_check; on PostgreSQL, which enforces its foreign keys itself, a count of runs and
 * events without their task.
 */
import { pgPool } from '@tasklock/core/postgres';
import { openRaw } from './raw-database.js';

export interface RunDatabase {
  /** Rows of a query without parameters. */
  all<T>(sql: string): Promise<T[]>;
  consistency(): Promise<{ name: string; problems: string[] }>;
  close(): Promise<void>;
}

export function isPostgres(location: string): boolean {
  return /^postgres(ql)?:/i.test(location);
}

export async function openRunDatabase(location: string): Promise<RunDatabase> {
  return isPostgres(location) ? openPostgres(location) : openSqlite(location);
}

function openSqlite(path: string): RunDatabase {
  const db = openRaw(path, { readonly: true });
  return {
    all: async <T>(sql: string) => db.prepare(sql).all() as T[],
    consistency: async () => {
      const integrity = db.pragma('integrity_check', { simple: true });
      const foreignKeys = db.pragma('foreign_key_check') as unknown[];
      return {
        name: 'integrity_check ok, foreign_key_check empty',
        problems: [
          ...(integrity === 'ok' ? [] : [`integrity_check: ${String(integrity)}`]),
          ...(foreignKeys.length === 0 ? [] : [`${foreignKeys.length} foreign key violations`]),
        ],
      };
    },
    close: async () => {
      db.close();
    },
  };
}

async function openPostgres(url: string): Promise<RunDatabase> {
  // The store's own pool kind: integers come back as numbers, as they do from SQLite.
  const pool = pgPool(url, 1);
  const client = await pool.connect();
  await client.query('SET search_path TO tasklock');
  return {
    all: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    consistency: async () => {
      const { rows } = await client.query<{ runs: number; events: number }>(
        `SELECT (SELECT count(*) FROM task_runs r WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = r.task_id)) AS runs,
                (SELECT count(*) FROM task_events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)) AS events`,
      );
      const orphans = rows[0]!;
      return {
        name: 'no run or event without its task',
        problems: [...(orphans.runs > 0 ? [`${orphans.runs} runs without their task`] : []), ...(orphans.events > 0 ? [`${orphans.events} events without their task`] : [])],
      };
    },
    close: async () => {
      client.release();
      await pool.end();
    },
  };
}
