/**
 * What operators do to tasks, above the store: cancel and retry many, purge, and the
 * counts `stats` prints. Validation and the shape of answers live here; each move is one store
 * operation (bulk moves, one per batch).
 */
import { BadInputError } from './errors.js';
import type { TaskStore, BulkMove, MoveSkip, StoreDescription, WriteMetricsSnapshot } from './storage/store.js';
import { STATUS_VIEWS, storedStatusOf, zeroCounts, type StatusView } from './status-view.js';
import { TERMINAL_STATUSES, TRANSITIONS, type TaskStatus } from './task-state.js';
import { validateFilter, type TaskFilter } from './validate.js';
import type { FilterInput } from './storage/rows.js';
import { list as listWorkers } from './worker-registry.js';

/** Tasks named by id, or every task a filter selects. */
export type BulkTarget = readonly number[] | TaskFilter;

export interface BulkOptions {
  /** Report what would move, change nothing. */
  dryRun?: boolean;
  /** Tasks per write transaction (default 500, at most 10000). */
  batchSize?: number;
}

export type BulkSkip = MoveSkip;

export interface BulkResult {
  dryRun: boolean;
  /** Ids moved (with dryRun: that would move), in the order processed. */
  changed: number[];
  /** Named ids left as they were, and why (a filter only finds tasks it can move). */
  skipped: BulkSkip[];
  /** Write transactions committed (0 for a dry run). */
  transactions: number;
}

export const DEFAULT_BULK_BATCH = 500;

export interface QueueStats {
  /** By status, with pending split: `pending` is due now, `scheduled` waits for its run_at (status-view.ts). */
  counts: Record<StatusView, number>;
  byQueue: Record<string, Record<StatusView, number>>;
  byType: Record<string, Record<StatusView, number>>;
  /** ctx.count's counters summed over every task of a type: type → name → sum. */
  countersByType: Record<string, Record<string, number>>;
  /** How long the oldest due pending task has waited, ms (0 when none). */
  oldestPendingAgeMs: number;
  /** Running tasks whose lease has expired (any worker's sweep, or `tasklock reclaim`, takes them back). */
  overdueLeases: number;
  /** Engine, location, lock, schema. */
  store: StoreDescription;
  /** The writes made through this queue's store: lock wait/hold, busy retries, failures. */
  writes: WriteMetricsSnapshot;
  workers: { live: number; total: number };
}

/**
 * Cancels or retries many tasks, each exactly as the single move would, in transactions of
 * `batchSize` so that workers claim and finish between two batches. Named ids that do not exist
 * or cannot make the move are reported, not thrown; a filter is narrowed to the statuses the
 * move starts from, and covers the tasks that exist when the walk starts.
 */
export async function moveMany(
  store: TaskStore,
  move: BulkMove,
  target: BulkTarget,
  options: BulkOptions & { reason?: string | null },
): Promise<BulkResult> {
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? DEFAULT_BULK_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new BadInputError(`${move}: batchSize must be an integer from 1 to 10000, got ${String(batchSize)}`);
  }
  const storeTarget = Array.isArray(target)
    ? { ids: validIds(move, target as readonly number[]) }
    : { filter: narrowed(move, validateFilter(target as TaskFilter, Date.now())) };
  const result = await store.moveMany(move, storeTarget, { dryRun, batchSize, reason: options.reason ?? null });
  return { dryRun, ...result };
}

/** Deletes terminal tasks not updated for `olderThanMs`, with their runs and events; returns how many. */
export async function purge(store: TaskStore, options: { olderThanMs: number; statuses?: readonly TaskStatus[] }): Promise<number> {
  if (!Number.isFinite(options.olderThanMs) || options.olderThanMs < 0) {
    throw new BadInputError('purge: olderThanMs must be a non-negative number');
  }
  const statuses = options.statuses ?? TERMINAL_STATUSES;
  for (const status of statuses) {
    if (!TERMINAL_STATUSES.includes(status)) throw new BadInputError(`purge: only terminal tasks can be purged, not ${status}`);
  }
  return store.purge(statuses, Date.now() - options.olderThanMs);
}

export async function stats(store: TaskStore): Promise<QueueStats> {
  const now = Date.now();
  const counts = zeroCounts();
  const byQueue: Record<string, Record<StatusView, number>> = {};
  const byType: Record<string, Record<StatusView, number>> = {};
  const read = await store.stats(now);
  for (const row of read.counts) {
    counts[row.status] += row.count;
    (byQueue[row.queue] ??= zeroCounts())[row.status] += row.count;
    (byType[row.type] ??= zeroCounts())[row.status] += row.count;
  }
  const countersByType: Record<string, Record<string, number>> = {};
  for (const row of read.counters) (countersByType[row.type] ??= {})[row.name] = row.value;
  const workers = await listWorkers(store);
  // Another host's worker (alive: null) counts as live until found dead there.
  const live = workers.filter((w) => w.alive !== false);
  return {
    counts,
    byQueue,
    byType,
    countersByType,
    oldestPendingAgeMs: read.oldestDueRunAt === null ? 0 : now - read.oldestDueRunAt,
    overdueLeases: read.overdueLeases,
    store: store.describe(),
    writes: store.writeMetrics(),
    workers: { live: live.length, total: workers.length },
  };
}

function validIds(move: BulkMove, ids: readonly number[]): number[] {
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 1) throw new BadInputError(`${move}: task ids must be positive integers, got ${String(id)}`);
  }
  return [...new Set(ids)];
}

/**
 * The filter's statuses ∩ those the move starts from: without statuses, all of them (cancel:
 * pending, scheduled, running; retry: failed, cancelled). Asking for a status the move cannot
 * start from is refused rather than silently matching nothing.
 */
function narrowed(move: BulkMove, filter: FilterInput): FilterInput {
  const allowed = STATUS_VIEWS.filter((view) =>
    (TRANSITIONS[move].from as readonly (TaskStatus | null)[]).includes(storedStatusOf(view)),
  );
  if (filter.statuses === null) return { ...filter, statuses: allowed };
  const refused = filter.statuses.filter((status) => !allowed.includes(status));
  if (refused.length > 0) {
    throw new BadInputError(`${move}: cannot ${move} ${refused.join(' or ')} tasks (only ${allowed.join(', ')})`);
  }
  return filter;
}
