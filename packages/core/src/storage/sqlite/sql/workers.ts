/**
 * workers: one row per worker process (id, pid, host, process start time). A worker ends in one
 * of two ways: `stopped_at` when it shut down gracefully, or `crashed_at` + `crashed_by` when
 * another process found it dead: on its own host by its pid, on any other host by a heartbeat
 * (`last_seen`) older than the worker's own `dead_after_ms`. Live workers refresh `last_seen`
 * with every heartbeat, and a heartbeat revives a worker wrongly found dead (it was only silent:
 * its tasks are gone, its row must not stay "crashed" while it runs). Rows of
 * workers that ended before a retention cutoff are pruned, unless they still hold a running task
 * (which the reclaim sweep must find them by).
 */
import type Database from 'better-sqlite3';
import type { NewWorker, WorkerRow } from '../../rows.js';

const ENDED = 'coalesce(stopped_at, crashed_at)';
/** The worker's heartbeat is older than its own bound, by this store's clock (@now). */
const SILENT = 'dead_after_ms IS NOT NULL AND last_seen < @now - dead_after_ms';
const HOLDS_TASKS = "id IN (SELECT locked_by FROM tasks INDEXED BY tasks_running_by_lease WHERE status = 'running')";

export function prepareWorkers(db: Database.Database) {
  const register = db.prepare<NewWorker>(
    `INSERT INTO workers (id, pid, host, process_start, queue, types, started_at, last_seen, dead_after_ms)
     VALUES (@id, @pid, @host, @process_start, @queue, @types, @started_at, @started_at, @dead_after_ms)
     ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, process_start = excluded.process_start,
       queue = excluded.queue, types = excluded.types, started_at = excluded.started_at,
       last_seen = excluded.last_seen, dead_after_ms = excluded.dead_after_ms, stopped_at = NULL, crashed_at = NULL, crashed_by = NULL`,
  );
  const stop = db.prepare<{ id: string; now: number }>(
    `UPDATE workers SET stopped_at = @now WHERE id = @id AND ${ENDED} IS NULL`,
  );
  const crashed = db.prepare<{ id: string; now: number; by: string }>(
    `UPDATE workers SET crashed_at = @now, crashed_by = @by WHERE id = @id AND ${ENDED} IS NULL`,
  );
  const seen = db.prepare<{ id: string; now: number }>('UPDATE workers SET last_seen = @now, crashed_at = NULL, crashed_by = NULL WHERE id = @id AND stopped_at IS NULL');
  const silentElsewhere = db.prepare<{ host: string; now: number }, WorkerRow>(`SELECT * FROM workers WHERE host <> @host AND ${ENDED} IS NULL AND ${SILENT}`);
  const stillSilent = db.prepare<{ id: string; now: number }, { id: string }>(`SELECT id FROM workers WHERE id = @id AND ${ENDED} IS NULL AND ${SILENT}`);
  const activeOnHost = db.prepare<[string], WorkerRow>(`SELECT * FROM workers WHERE host = ? AND ${ENDED} IS NULL`);
  const all = db.prepare<[], WorkerRow>('SELECT * FROM workers ORDER BY started_at DESC, id');
  const withRunningTasks = db.prepare<[string], WorkerRow>(`SELECT * FROM workers WHERE host = ? AND ${HOLDS_TASKS}`);
  const prunable = db.prepare<[number], { id: string }>(`SELECT id FROM workers WHERE ${ENDED} <= ? AND NOT ${HOLDS_TASKS} LIMIT 1`);
  const prune = db.prepare<[number]>(`DELETE FROM workers WHERE ${ENDED} <= ? AND NOT ${HOLDS_TASKS}`);
  return {
    register(row: NewWorker): void {
      register.run(row);
    },
    /** A heartbeat: the worker is alive now (revived if it had been found dead). */
    seen(id: string, now: number): void {
      seen.run({ id, now });
    },
    /** Workers of other hosts than `host`, not ended, silent for longer than their bound. */
    silentElsewhere(host: string, now: number): WorkerRow[] {
      return silentElsewhere.all({ host, now });
    },
    /** Whether the worker is still silent past its bound (re-checked inside the reclaim's transaction). */
    stillSilent(id: string, now: number): boolean {
      return stillSilent.get({ id, now }) !== undefined;
    },
    /** Graceful end. */
    stop(id: string, now: number): boolean {
      return stop.run({ id, now }).changes === 1;
    },
    /** Found dead by `by`. */
    crashed(id: string, now: number, by: string): boolean {
      return crashed.run({ id, now, by }).changes === 1;
    },
    /** Workers of this host not yet ended, and those that still hold running tasks, ended or not (a stop may have raced a claim). */
    onHost(host: string): WorkerRow[] {
      const byId = new Map<string, WorkerRow>();
      for (const worker of [...withRunningTasks.all(host), ...activeOnHost.all(host)]) byId.set(worker.id, worker);
      return [...byId.values()];
    },
    all(): WorkerRow[] {
      return all.all();
    },
    /** Whether prune(cutoff) would delete something (a read: the sweep writes only when there is work). */
    anyPrunable(cutoff: number): boolean {
      return prunable.get(cutoff) !== undefined;
    },
    /** Deletes workers that ended at or before `cutoff` and hold no running task; returns how many. */
    prune(cutoff: number): number {
      return prune.run(cutoff).changes;
    },
  };
}
