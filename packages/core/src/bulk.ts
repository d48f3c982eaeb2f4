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
 *    page by page in id order. Each page is selected inside its own transaction, so what it moves
 *    matches the filter at that moment.
 * A dry run reads the same pages outside any transaction and changes nothing.
 */
import type { TasklockDatabase } from './database.js';
import { BadInputError } from './errors.js';
import type { AdminStatements, CandidateRow } from './sql/admin.js';
import { filterParams, type FilterInput } from './sql/task-filter.js';
import { STATUS_VIEWS, storedStatusOf, type StatusView } from './status-view.js';
import { canTransition, TRANSITIONS, type TaskStatus } from './task-state.js';
import { validateFilter, type TaskFilter } from './validate.js';

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
  /** The largest id looked at (the filter walk's next cursor). */
  last: number;
}

/** Moves one task that the move may start from; false if the conditional UPDATE refused. */
export type ApplyMove = (task: CandidateRow, now: number) => boolean;

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
  const result: BulkResult = { dryRun, changed: [], skipped: [], transactions: 0 };
  // Each page is one transaction (or, dry, one read); its body returns what it did rather than
  // recording it, since a transaction retried after SQLITE_BUSY runs its body again.
  const run = async (page: () => Page): Promise<Page> => {
    if (dryRun) return page();
    const done = await db.write(page, { label: `${move} (bulk)` });
    result.transactions += 1;
    return done;
  };
  const take = (page: Page) => {
    result.changed.push(...page.changed);
    result.skipped.push(...page.skipped);
  };

  if (Array.isArray(target)) {
    const ids = validIds(move, target as readonly number[]);
    for (let start = 0; start < ids.length; start += batchSize) {
      take(await run(() => idsPage(admin, move, ids.slice(start, start + batchSize), dryRun, apply)));
    }
    return result;
  }
  const filter = narrowed(move, validateFilter(target as TaskFilter, Date.now()));
  const maxId = admin.maxId();
  for (let after = 0; ; ) {
    const page = await run(() => {
      const now = Date.now();
      const rows = admin.candidates(filterParams(filter, now), after, maxId, batchSize);
      const page: Page = { changed: [], skipped: [], last: rows.length === batchSize ? rows[rows.length - 1]!.id : Number.POSITIVE_INFINITY };
      for (const row of rows) {
        if (dryRun || apply(row, now)) page.changed.push(row.id);
        else page.skipped.push({ id: row.id, reason: 'invalid-transition', status: row.status });
      }
      return page;
    });
    take(page);
    if (!Number.isFinite(page.last)) return result;
    after = page.last;
  }
}

function idsPage(admin: AdminStatements, move: BulkMove, ids: readonly number[], dryRun: boolean, apply: ApplyMove): Page {
  const now = Date.now();
  const page: Page = { changed: [], skipped: [], last: 0 };
  for (const id of ids) {
    const current = admin.current(id);
    if (current === undefined) page.skipped.push({ id, reason: 'not-found', status: null });
    else if (!canTransition(move, current.status)) page.skipped.push({ id, reason: 'invalid-transition', status: current.status });
    else if (dryRun || apply({ id, ...current }, now)) page.changed.push(id);
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
