/**
 * Moving a queue from one store to another (SQLite → PostgreSQL, or back): `exportTasks` streams
 * whole tasks as NDJSON lines (format.ts), a page at a time by id, so memory stays bounded by a
 * page (sized to about 4 MiB); `readExport` reads them all back and checks them all (parse.ts)
 * before anything is written, and `importTasks` writes them in one store transaction: all or nothing.
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
import type { FilterInput } from '../storage/rows.js';
import type { TaskStore } from '../storage/store.js';
import { validateFilter, type TaskFilter } from '../validate.js';
import { endLine, EXPORT_FORMAT, EXPORT_VERSION, headerLine, taskLine, type ExportCounts, type ExportHeader } from './format.js';
import { ExportReader, type ParsedExport } from './parse.js';

export interface ExportOptions extends Pick<TaskFilter, 'status' | 'type' | 'queue'> {
  /** Export running tasks as they are instead of refusing (see above). */
  allowRunning?: boolean;
  /** Tasks per read; by default each page is sized by what the one before weighed (about 4 MiB). */
  pageSize?: number;
}

export type { ExportCounts, ParsedExport };

export interface ImportResult extends ExportCounts {
  source: ExportHeader['source'];
  exportedAt: string;
}

/**
 * Tasks per read. A task may carry a payload, a result and progress of up to 1 MiB each (the
 * defaults), so a page is sized by what the last one weighed: about PAGE_CHARS of lines, from 1
 * to MAX_PAGE tasks; the first page reads FIRST_PAGE. Typical tasks (a KB) make pages of
 * MAX_PAGE, which keeps a server store's round trips few.
 */
const FIRST_PAGE = 10;
const MAX_PAGE = 1000;
const PAGE_CHARS = 4 * 1024 * 1024;
/** Running tasks a refusal names. */
const NAMED = 5;

/** Writes the export line by line through `write` (each line without its newline); answers the counts. */
export async function exportTasks(store: TaskStore, options: ExportOptions, write: (line: string) => Promise<void>): Promise<ExportCounts> {
  const allowRunning = options.allowRunning ?? false;
  const fixedSize = options.pageSize;
  if (fixedSize !== undefined && (!Number.isSafeInteger(fixedSize) || fixedSize < 1)) {
    throw new BadInputError(`export: pageSize must be a positive integer, got ${String(fixedSize)}`);
  }
  const filter = validateFilter({ status: options.status, type: options.type, queue: options.queue }, Date.now());
  if (!allowRunning) await refuseRunning(store, filter);
  await write(headerLine(headerOf(store, filter, allowRunning)));
  const counts: ExportCounts = { tasks: 0, runs: 0, events: 0 };
  for (let after = 0, pageSize = fixedSize ?? FIRST_PAGE; ; ) {
    const page = await store.exportPage(filter, after, pageSize, Date.now());
    let chars = 0;
    for (const record of page) {
      if (record.task.status === 'running' && !allowRunning) {
        throw new BadInputError(`export: task ${record.task.id} started running during the export (a worker is still running): stop the workers and export again`, {
          taskId: record.task.id,
        });
      }
      const line = taskLine(record);
      chars += line.length;
      await write(line);
      counts.tasks += 1;
      counts.runs += record.runs.length;
      counts.events += record.events.length;
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.task.id;
    pageSize = fixedSize ?? Math.max(1, Math.min(MAX_PAGE, Math.floor(PAGE_CHARS / (chars / page.length))));
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

async function refuseRunning(store: TaskStore, filter: FilterInput): Promise<void> {
  if (filter.statuses !== null && !filter.statuses.includes('running')) return;
  const running = await store.list({ ...filter, statuses: ['running'] }, 'asc', null, NAMED + 1, Date.now());
  if (running.length === 0) return;
  const ids = running.slice(0, NAMED).map((task) => task.id).join(', ') + (running.length > NAMED ? ' …' : '');
  throw new BadInputError(
    `export: task(s) ${ids} are running, leased to workers of this store: stop the workers first, or allow running tasks (export --allow-running) to export them as they are`,
    { taskId: running[0]!.id },
  );
}

function headerOf(store: TaskStore, filter: FilterInput, allowRunning: boolean): ExportHeader {
  const { engine, schemaVersion } = store.describe();
  const copy = (list: readonly string[] | null) => (list === null ? null : [...list]);
  const filtered = filter.statuses !== null || filter.types !== null || filter.queues !== null;
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    source: { engine, schemaVersion },
    exportedAt: new Date().toISOString(),
    filter: filtered ? { status: copy(filter.statuses), type: copy(filter.types), queue: copy(filter.queues) } : null,
    allowRunning,
  };
}
