/**
 * Bulk operator moves (cancelMany, retryMany): many tasks, each moved exactly as the single-task
 * cancel or retry moves it (same guarded entry, same conditional UPDATE, same event row), in
 * bounded write transactions so that a 100k-task cancel never holds the write lock for long:
 * workers claim and finish between two batches.
 *
 * Two ways to name the tasks:
 *  - ids: each is looked up in its batch's transaction; one that does not exist or whose status
 *    the move does not start from is skipped with its reason, and the others still move.
 *  - a filter: its statuses are narrowed to those the move starts from (asking for others is bad
 *    input), and the walk covers the tasks that exist when it starts (ids up to the largest then),
 *    page by page in id order. A page is found by a read (no lock: finding 500 failed tasks among
 *    millions of succeeded ones may scan), then re-checked by id inside its transaction, so what
 *    moves matches the filter at that moment and the lock is held for the page alone.
 * A dry run reads the same pages and changes nothing.
 */
import type { TasklockDatabase } from './database.js';
import { BadInputError } from '../../errors.js';
import type { AdminStatements, CandidateRow } from './sql/admin.js';
import { filterParams, type FilterInput } from './sql/task-filter.js';
import { STATUS_VIEWS, storedStatusOf, type StatusView } from '../../status-view.js';
import { canTransition, TRANSITIONS, type TaskStatus } from '../../task-state.js';
import { validateFilter, type TaskFilter } from '../../validate.js';

export type BulkTarget = readonly number[] | TaskFilter;

export interface BulkOptions {
  /** Report what would move, change nothing. */
  dryRun?: boolean;
  /** Tasks per write transaction (default 500, at most 10000). */
  batchSize?: number;
}

export interface BulkSkip {
  id: number;
  reason: 'not-found' | 'invalid-transition';
  /** The status that refused the move; null when the task does not exist. */
  status: TaskStatus | null;
}

export interface BulkResult {
  dryRun: boolean;
  /** Ids moved (with dryRun: that would move), in the order processed. */
  changed: number[];
  /** Named ids left as they were, and why (a filter only finds tasks it can move). */
  skipped: BulkSkip[];
  /** Write transactions committed (0 for a dry run). */
  transactions: number;
}

export type BulkMove = 'cancel' | 'retry';

export const DEFAULT_BULK_BATCH = 500;

interface Page {
  changed: number[];
  skipped: BulkSkip[];
}

/** Moves one task that the move may start from; false if the conditional UPDATE refused. */
export type ApplyMove = (task: CandidateRow, now: number) => boolean;

/** One bulk move under way: what it applies, how, and what it did so far. */
interface Walk {
  db: TasklockDatabase;
  admin: AdminStatements;
  move: BulkMove;
  dryRun: boolean;
  batchSize: number;
  apply: ApplyMove;
  result: BulkResult;
}

export async function bulkMove(
  db: TasklockDatabase,
  admin: AdminStatements,
  move: BulkMove,
  target: BulkTarget,
  options: BulkOptions,
  apply: ApplyMove,
): Promise<BulkResult> {
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? DEFAULT_BULK_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new BadInputError(`${move}: batchSize must be an integer from 1 to 10000, got ${String(batchSize)}`);
  }
  const walk: Walk = { db, admin, move, dryRun, batchSize, apply, result: { dryRun, changed: [], skipped: [], transactions: 0 } };
  if (Array.isArray(target)) await byIds(walk, validIds(move, target as readonly number[]));
  else await byFilter(walk, narrowed(move, validateFilter(target as TaskFilter, Date.now())));
  return walk.result;
}

/**
 * Runs one page: a write transaction (or, dry, a plain call). The body returns what it did rather
 * than recording it, since a transaction retried after SQLITE_BUSY runs its body again.
 */
async function commit(walk: Walk, body: () => Page): Promise<void> {
  const page = walk.dryRun ? body() : await walk.db.write(body, { label: `${walk.move} (bulk)` });
  if (!walk.dryRun) walk.result.transactions += 1;
  walk.result.changed.push(...page.changed);
  walk.result.skipped.push(...page.skipped);
}

async function byIds(walk: Walk, ids: readonly number[]): Promise<void> {
  for (let start = 0; start < ids.length; start += walk.batchSize) {
    const slice = ids.slice(start, start + walk.batchSize);
    await commit(walk, () => idsPage(walk, slice));
  }
}

async function byFilter(walk: Walk, filter: FilterInput): Promise<void> {
  const maxId = walk.admin.maxId();
  for (let after = 0; ; ) {
    // Found by a read, outside any transaction: on a big table the filter may walk many rows
    // to fill a page, and the write lock must not be held for that.
    const found = walk.admin.candidates(filterParams(filter, Date.now()), after, maxId, walk.batchSize).map((row) => row.id);
    if (found.length === 0) return;
    await commit(walk, () => {
      if (walk.dryRun) return { changed: found, skipped: [] };
      const now = Date.now();
      const page: Page = { changed: [], skipped: [] };
      // Re-read in the transaction: a task that left the filter meanwhile is not moved.
      for (const row of walk.admin.recheck(filterParams(filter, now), found)) {
        if (walk.apply(row, now)) page.changed.push(row.id);
        else page.skipped.push({ id: row.id, reason: 'invalid-transition', status: row.status });
      }
      return page;
    });
    if (found.length < walk.batchSize) return;
    after = found[found.length - 1]!;
  }
}

function idsPage(walk: Walk, ids: readonly number[]): Page {
  const now = Date.now();
  const page: Page = { changed: [], skipped: [] };
  for (const id of ids) {
    const current = walk.admin.current(id);
    if (current === undefined) page.skipped.push({ id, reason: 'not-found', status: null });
    else if (!canTransition(walk.move, current.status)) page.skipped.push({ id, reason: 'invalid-transition', status: current.status });
    else if (walk.dryRun || walk.apply({ id, ...current }, now)) page.changed.push(id);
    // Cannot happen inside the transaction that just read the status; never assumed.
    else page.skipped.push({ id, reason: 'invalid-transition', status: current.status });
  }
  return page;
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
  const refused = filter.statuses.filter((status: StatusView) => !allowed.includes(status));
  if (refused.length > 0) {
    throw new BadInputError(`${move}: cannot ${move} ${refused.join(' or ')} tasks (only ${allowed.join(', ')})`);
  }
  return filter;
}
