/**
 * Bulk operator moves on SQLite (the store's moveMany): many tasks, each moved exactly as the
 * single-task cancel or retry moves it (same guarded entry, same conditional UPDATE, same event
 * row), in bounded write transactions so that a 100k-task cancel never holds the write lock for
 * long: workers claim and finish between two batches. (Validation is the queue's: admin.ts.)
 *
 * Two ways to name the tasks:
 *  - ids: each is looked up in its batch's transaction; one that does not exist or whose status
 *    the move does not start from is skipped with its reason, and the others still move.
 *  - a filter (already narrowed to the statuses the move starts from): the walk covers the
 *    tasks that exist when it starts (ids up to the largest then),
 *    page by page in id order. A page is found by a read (no lock: finding 500 failed tasks among
 *    millions of succeeded ones may scan), then re-checked by id inside its transaction, so what
 *    moves matches the filter at that moment and the lock is held for the page alone.
 * A dry run reads the same pages and changes nothing.
 */
import type { TasklockDatabase } from './database.js';
import type { AdminStatements, CandidateRow } from './sql/admin.js';
import { filterParams } from './sql/task-filter.js';
import type { FilterInput } from '../rows.js';
import type { BulkMove, MoveManyOptions, MoveManyResult, MoveSkip, MoveTarget } from '../store.js';
import { canTransition } from '../../task-state.js';

interface Page {
  changed: number[];
  skipped: MoveSkip[];
}

/** One bulk move under way: what it applies, how, and what it did so far. */
export interface Walk {
  db: TasklockDatabase;
  admin: AdminStatements;
  move: BulkMove;
  options: MoveManyOptions;
  /** Moves one task that the move may start from; false if the conditional UPDATE refused. */
  apply: (task: CandidateRow, now: number) => boolean;
}

export async function moveMany(walk: Walk, target: MoveTarget): Promise<MoveManyResult> {
  const result: MoveManyResult = { changed: [], skipped: [], transactions: 0 };
  if ('ids' in target) await byIds(walk, target.ids, result);
  else await byFilter(walk, target.filter, result);
  return result;
}

/**
 * Runs one page: a write transaction (or, dry, a plain call). The body returns what it did rather
 * than recording it, since a transaction retried after SQLITE_BUSY runs its body again.
 */
async function commit(walk: Walk, result: MoveManyResult, body: () => Page): Promise<void> {
  const { dryRun } = walk.options;
  const page = dryRun ? body() : await walk.db.write(body, { label: `${walk.move} (bulk)` });
  if (!dryRun) result.transactions += 1;
  result.changed.push(...page.changed);
  result.skipped.push(...page.skipped);
}

async function byIds(walk: Walk, ids: readonly number[], result: MoveManyResult): Promise<void> {
  const { batchSize } = walk.options;
  for (let start = 0; start < ids.length; start += batchSize) {
    const slice = ids.slice(start, start + batchSize);
    await commit(walk, result, () => idsPage(walk, slice));
  }
}

async function byFilter(walk: Walk, filter: FilterInput, result: MoveManyResult): Promise<void> {
  const { batchSize, dryRun } = walk.options;
  const maxId = walk.admin.maxId();
  for (let after = 0; ; ) {
    // Found by a read, outside any transaction: on a big table the filter may walk many rows
    // to fill a page, and the write lock must not be held for that.
    const found = walk.admin.candidates(filterParams(filter, Date.now()), after, maxId, batchSize).map((row) => row.id);
    if (found.length === 0) return;
    await commit(walk, result, () => {
      if (dryRun) return { changed: found, skipped: [] };
      const now = Date.now();
      const page: Page = { changed: [], skipped: [] };
      // Re-read in the transaction: a task that left the filter meanwhile is not moved.
      for (const row of walk.admin.recheck(filterParams(filter, now), found)) {
        if (walk.apply(row, now)) page.changed.push(row.id);
        else page.skipped.push({ id: row.id, reason: 'invalid-transition', status: row.status });
      }
      return page;
    });
    if (found.length < batchSize) return;
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
    else if (walk.options.dryRun || walk.apply({ id, ...current }, now)) page.changed.push(id);
    // Cannot happen inside the transaction that just read the status; never assumed.
    else page.skipped.push({ id, reason: 'invalid-transition', status: current.status });
  }
  return page;
}
