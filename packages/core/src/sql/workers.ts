/**
 * workers: one row per worker process that ever ran (id, pid, host, process start time).
 * `stopped_at` is set on graceful shutdown or when another worker finds it dead; live workers
 * refresh `last_seen` with every heartbeat.
 */
import type Database from 'better-sqlite3';

export interface WorkerRow {
  id: string;
  pid: number;
  host: string;
  process_start: string;
  queue: string;
  types: string | null;
  started_at: number;
  last_seen: number;
  stopped_at: number | null;
}

export function prepareWorkers(db: Database.Database) {
  const register = db.prepare<Omit<WorkerRow, 'stopped_at' | 'last_seen'>>(
    `INSERT INTO workers (id, pid, host, process_start, queue, types, started_at, last_seen)
     VALUES (@id, @pid, @host, @process_start, @queue, @types, @started_at, @started_at)
     ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, process_start = excluded.process_start,
       queue = excluded.queue, types = excluded.types, started_at = excluded.started_at,
       last_seen = excluded.last_seen, stopped_at = NULL`,
  );
  const stop = db.prepare<{ id: string; now: number }>(
    'UPDATE workers SET stopped_at = @now WHERE id = @id AND stopped_at IS NULL',
  );
  const activeOnHost = db.prepare<[string], WorkerRow>('SELECT * FROM workers WHERE host = ? AND stopped_at IS NULL');
  const all = db.prepare<[], WorkerRow>('SELECT * FROM workers ORDER BY started_at DESC, id');
  const withRunningTasks = db.prepare<[string], WorkerRow>(
    `SELECT * FROM workers w WHERE w.host = ?
       AND w.id IN (SELECT locked_by FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running')`,
  );
  return {
    register(row: Omit<WorkerRow, 'stopped_at' | 'last_seen'>): void {
      register.run(row);
    },
    stop(id: string, now: number): boolean {
      return stop.run({ id, now }).changes === 1;
    },
    activeOnHost(host: string): WorkerRow[] {
      return activeOnHost.all(host);
    },
    /** Workers of this host that still hold running tasks, stopped or not (a stop may have raced a claim). */
    holdingOnHost(host: string): WorkerRow[] {
      return withRunningTasks.all(host);
    },
    all(): WorkerRow[] {
      return all.all();
    },
  };
}
