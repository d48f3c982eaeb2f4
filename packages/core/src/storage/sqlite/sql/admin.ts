/**
 * Operator transitions, conditional on the status read in the same transaction:
 *   cancel  pending | running → cancelled (a running attempt's run is closed as 'cancelled';
 *           its worker finds the lease gone at its next heartbeat and aborts the handler)
 *   retry   failed | cancelled → pending now, with at least one attempt left
 *   purge   terminal tasks last updated at or before a cutoff are deleted with their runs and events
 * Bulk cancel/retry (bulk.ts) page through `candidates` (the shared filter, ids in (after, maxId],
 * in id order; a read), `recheck` each page inside its transaction, and move each task with the
 * same `cancel`/`retry` as a single task: one write path.
 */
import type Database from 'better-sqlite3';
import { CLEAR_LEASE } from './fragments.js';
import type { TaskStatus } from '../../../task-state.js';
import type { EventStatements } from './events.js';
import type { RunStatements } from './runs.js';
import { TASK_FILTER_SQL, type FilterParams } from './task-filter.js';

export interface CandidateRow {
  id: number;
  status: TaskStatus;
  attempts: number;
  locked_by: string | null;
}

export function prepareAdmin(db: Database.Database, runs: RunStatements, events: EventStatements) {
  const current = db.prepare<[number], { status: TaskStatus; attempts: number; locked_by: string | null }>(
    'SELECT status, attempts, locked_by FROM tasks WHERE id = ?',
  );
  const cancel = db.prepare<{ id: number; from: TaskStatus; now: number }>(
    `UPDATE tasks SET status = 'cancelled', updated_at = @now, finished_at = @now,
                      ${CLEAR_LEASE}
     WHERE id = @id AND status = @from`,
  );
  const retry = db.prepare<{ id: number; from: TaskStatus; now: number }>(
    `UPDATE tasks SET status = 'pending', run_at = @now, updated_at = @now, finished_at = NULL,
                      max_attempts = MAX(max_attempts, attempts - released + 1)
     WHERE id = @id AND status = @from`,
  );
  // The primary key bounds the walk: each page starts where the last ended and stops at the
  // largest id that existed when the bulk began, so tasks enqueued meanwhile are not swept up.
  const candidates = db.prepare<FilterParams & { after: number; maxId: number; limit: number }, CandidateRow>(
    `SELECT id, status, attempts, locked_by FROM tasks
     WHERE id > @after AND id <= @maxId AND ${TASK_FILTER_SQL}
     ORDER BY id LIMIT @limit`,
  );
  // The same filter over a page of ids, by primary key: inside a write transaction it costs the
  // page, never the scan that found it.
  const recheck = db.prepare<FilterParams & { ids: string }, CandidateRow>(
    `SELECT id, status, attempts, locked_by FROM tasks
     WHERE id IN (SELECT value FROM json_each(@ids)) AND ${TASK_FILTER_SQL}
     ORDER BY id`,
  );
  const maxId = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM tasks');
  const purge = db.prepare<{ statuses: string; cutoff: number }>(
    `DELETE FROM tasks
     WHERE status IN (SELECT value FROM json_each(@statuses)) AND status IN ('succeeded', 'failed', 'cancelled')
       AND updated_at <= @cutoff`,
  );
  return {
    current(id: number) {
      return current.get(id);
    },
    /** Up to `limit` tasks matching the filter with after < id ≤ maxId, in id order. */
    candidates(filter: FilterParams, after: number, maxId: number, limit: number): CandidateRow[] {
      return candidates.all({ ...filter, after, maxId, limit });
    },
    /** Those of `ids` that still match the filter. */
    recheck(filter: FilterParams, ids: readonly number[]): CandidateRow[] {
      return recheck.all({ ...filter, ids: JSON.stringify(ids) });
    },
    maxId(): number {
      return maxId.get()?.id ?? 0;
    },
    /** false: the status changed under us (cannot happen inside one write transaction, but never assumed). */
    cancel(id: number, from: TaskStatus, attempts: number, lockedBy: string | null, now: number, reason: string | null): boolean {
      if (cancel.run({ id, from, now }).changes !== 1) return false;
      if (from === 'running') runs.close(id, attempts, now, 'cancelled', reason, null);
      events.record({ taskId: id, at: now, transition: 'cancel', from, to: 'cancelled', attempt: attempts, workerId: lockedBy, detail: reason });
      return true;
    },
    retry(id: number, from: TaskStatus, attempts: number, now: number): boolean {
      if (retry.run({ id, from, now }).changes !== 1) return false;
      events.record({ taskId: id, at: now, transition: 'retry', from, to: 'pending', attempt: attempts, workerId: null, detail: null });
      return true;
    },
    purge(statuses: readonly TaskStatus[], cutoff: number): number {
      return purge.run({ statuses: JSON.stringify(statuses), cutoff }).changes;
    },
  };
}

export type AdminStatements = ReturnType<typeof prepareAdmin>;
