/**
 * Moving a queue from one store to another (SQLite → PostgreSQL, or back): `exportTasks` streams
 * whole tasks as NDJSON lines (format.ts), a page at a time by id, so memory stays bounded by a
 * page; `readExport` reads them all back and checks them all (parse.ts) before anything is
 * written, and `importTasks` writes them in one store transaction: all or nothing.
 *
 * Running tasks: a running task's lease belongs to a live worker of the source store, which may
 * still finish it there. An export refuses them unless `allowRunning`; a task that starts running
 * while the export walks (a worker was left running) refuses it then. Let through, a running task
 * is exported and imported as it is, lease and open run included: no worker of the target holds
 * it, so the target's reclaim sweep takes it back once its lease has run out, as it would after
 * any lost worker (run closed `reclaimed`, attempt counted). Its handler may then run twice, once
 * in each store: stop the workers before moving a queue.
 */
import { BadInputError } from '../errors.js';
import type { TaskStore } from '../storage/store.js';
import { validateFilter, type TaskFilter } from '../validate.js';
import { endLine, EXPORT_FORMAT, EXPORT_VERSION, headerLine, taskLine, type ExportCounts, type ExportHeader } from './format.js';
import { ExportReader, type ParsedExport } from './parse.js';

export interface ExportOptions extends Pick<TaskFilter, 'status' | 'type' | 'queue'> {
  /** Export running tasks as they are instead of refusing (see above). */
  allowRunning?: boolean;
  /** Tasks per read (default 500). */
  pageSize?: number;
}

export type { ExportCounts, ParsedExport };

export interface ImportResult extends ExportCounts {
  source: ExportHeader['source'];
  exportedAt: string;
}

const PAGE = 500;
/** Running tasks a refusal names. */
const NAMED = 5;

/** Writes the export line by line through `write` (each line without its newline); answers the counts. */
export async function exportTasks(store: TaskStore, options: ExportOptions, write: (line: string) => Promise<void>): Promise<ExportCounts> {
  const allowRunning = options.allowRunning ?? false;
  const pageSize = options.pageSize ?? PAGE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new BadInputError(`export: pageSize must be a positive integer, got ${String(pageSize)}`);
  const filter = validateFilter({ status: options.status, type: options.type, queue: options.queue }, Date.now());
  if (!allowRunning) await refuseRunning(store, filter);
  const description = store.describe();
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    source: { engine: description.engine, schemaVersion: description.schemaVersion },
    exportedAt: new Date().toISOString(),
    filter: filter.statuses === null && filter.types === null && filter.queues === null ? null : { status: nullableCopy(filter.statuses), type: nullableCopy(filter.types), queue: nullableCopy(filter.queues) },
    allowRunning,
  };
  await write(headerLine(header));
  const counts: ExportCounts = { tasks: 0, runs: 0, events: 0 };
  for (let after = 0; ; ) {
    const page = await store.exportPage(filter, after, pageSize, Date.now());
    for (const record of page) {
      if (record.task.status === 'running' && !allowRunning) {
        throw new BadInputError(`export: task ${record.task.id} started running during the export (a worker is still running): stop the workers and export again`, {
          taskId: record.task.id,
        });
      }
      await write(taskLine(record));
      counts.tasks += 1;
      counts.runs += record.runs.length;
      counts.events += record.events.length;
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.task.id;
  }
  await write(endLine(counts));
  return counts;
}

/** Reads an export's lines (`source` names the input in errors) and checks every one of them; nothing is written. */
export async function readExport(lines: AsyncIterable<string> | Iterable<string>, source: string): Promise<ParsedExport> {
  const reader = new ExportReader(source);
  for await (const line of lines) reader.add(line);
  return reader.finish();
}

/** Writes a checked export in one transaction, ids kept: all of it, or nothing. */
export async function importTasks(store: TaskStore, data: ParsedExport): Promise<ImportResult> {
  await store.importTasks(data.records);
  return { ...data.counts, source: data.header.source, exportedAt: data.header.exportedAt };
}

async function refuseRunning(store: TaskStore, filter: ReturnType<typeof validateFilter>): Promise<void> {
  if (filter.statuses !== null && !filter.statuses.includes('running')) return;
  const running = await store.list({ ...filter, statuses: ['running'] }, 'asc', null, NAMED + 1, Date.now());
  if (running.length === 0) return;
  const ids = running.slice(0, NAMED).map((task) => task.id).join(', ') + (running.length > NAMED ? ' …' : '');
  throw new BadInputError(
    `export: task(s) ${ids} are running, leased to workers of this store: stop the workers first, or allow running tasks (export --allow-running) to export them as they are`,
    { taskId: running[0]!.id },
  );
}

function nullableCopy(list: readonly string[] | null): string[] | null {
  return list === null ? null : [...list];
}
