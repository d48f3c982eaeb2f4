/**
 * What `cancel` and `retry` share: several ids or a filter (--status, --type, --queue,
 * --older-than) with --dry-run, handed to the library's cancelMany / retryMany, and one report.
 * Ids that could not move are listed, and make the exit code 2 once the rest have moved (the
 * input named a task that cannot take the move, like the single-id form); a filter only finds
 * tasks that can.
 */
import type { Command } from 'commander';
import { BadInputError, TasklockError, type BulkResult, type BulkSkip, type BulkTarget, type StatusView } from '@tasklock/core';
import { printJson, printLine } from './output.js';
import { duration, nameList, statusViewList } from './options.js';

export interface BulkFlags {
  status?: StatusView[];
  type?: string[];
  queue?: string[];
  olderThan?: number;
  dryRun?: boolean;
}

export function addBulkOptions(command: Command, statuses: string): Command {
  return command
    .option('--status <statuses>', `only tasks in these statuses, comma-separated (${statuses})`, statusViewList)
    .option('--type <types>', 'only tasks of these types, comma-separated', nameList)
    .option('--queue <names>', 'only tasks of these queues, comma-separated', nameList)
    .option('--older-than <duration>', 'only tasks last updated at least this long ago (30s, 15m, 7d)', duration)
    .option('--dry-run', 'print what would change, change nothing');
}

/** The tasks the command names: its ids, or its filter; never both, never neither. */
export function bulkTarget(ids: readonly number[], flags: BulkFlags): BulkTarget {
  const filter = { status: flags.status, type: flags.type, queue: flags.queue, olderThanMs: flags.olderThan };
  const filtered = Object.values(filter).some((value) => value !== undefined);
  if (ids.length > 0 && filtered) throw new BadInputError('give task ids or a filter (--status, --type, --queue, --older-than), not both');
  if (ids.length === 0 && !filtered) throw new BadInputError('give task ids, or a filter: --status, --type, --queue, --older-than');
  return ids.length > 0 ? ids : filter;
}

export function reportBulk(result: BulkResult, verbs: { done: string; would: string; move: string }, json: boolean): void {
  if (json) {
    printJson({ dryRun: result.dryRun, changed: result.changed.length, ids: result.changed, skipped: result.skipped, transactions: result.transactions });
  } else {
    const count = result.changed.length;
    printLine(
      result.dryRun
        ? `would ${verbs.would} ${count} task(s)${count > 0 ? `: ${idList(result.changed)}` : ''} (dry run: nothing changed)`
        : `${verbs.done} ${count} task(s) in ${result.transactions} transaction(s)`,
    );
    for (const [why, skips] of groupSkips(result.skipped)) printLine(`skipped ${skips.length} (${why}): ${idList(skips.map((s) => s.id))}`);
  }
  if (result.skipped.length > 0) {
    const code = result.skipped.every((skip) => skip.reason === 'not-found') ? 'task-not-found' : 'invalid-transition';
    const total = result.changed.length + result.skipped.length;
    throw new TasklockError(code, `${result.skipped.length} of ${total} task(s) cannot ${verbs.move}: ${describeSkips(result.skipped)}`);
  }
}

function groupSkips(skips: readonly BulkSkip[]): Map<string, BulkSkip[]> {
  const groups = new Map<string, BulkSkip[]>();
  for (const skip of skips) {
    const why = skip.status === null ? 'not found' : `${skip.status}`;
    groups.set(why, [...(groups.get(why) ?? []), skip]);
  }
  return groups;
}

function describeSkips(skips: readonly BulkSkip[]): string {
  return [...groupSkips(skips)].map(([why, group]) => `${idList(group.map((s) => s.id), 5)} (${why})`).join(', ');
}

function idList(ids: readonly number[], max = 20): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} … (${ids.length - max} more)`;
}
