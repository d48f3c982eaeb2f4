import { Option, type Command } from 'commander';
import { statusViewOf, type StatusView, type Task } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { clip, countersText, iso, paintStatus, printJson, printLine, printTable, taskJson, terminalWidth, useColour } from '../output.js';
import { nameList, positiveInteger, statusViewList, taskId } from '../options.js';

interface ListFlags {
  status?: StatusView[];
  type?: string[];
  queue?: string[];
  limit: number;
  order: 'asc' | 'desc';
  after?: number;
  wide?: boolean;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list tasks by id, a page at a time; PROGRESS and COUNTERS columns when a task has either (--json: {"tasks": [...], "next": <cursor or null>})')
    .option(
      '--status <statuses>',
      'only these statuses, comma-separated: pending (due now), scheduled (pending, due later), running, succeeded, failed, cancelled',
      statusViewList,
    )
    .option('--type <types>', 'only these task types, comma-separated', nameList)
    .option('--queue <names>', 'only these queues, comma-separated', nameList)
    .option('--limit <n>', 'at most this many tasks', positiveInteger, 100)
    .addOption(new Option('--order <order>', 'by id: asc (oldest first) or desc (newest first)').choices(['asc', 'desc']).default('asc'))
    .option('--after <id>', 'the next page: tasks after this id in the listing order (the "next" cursor)', taskId)
    .option('--wide', 'on a terminal, show long cells whole instead of cutting them to its width')
    .action(async (flags: ListFlags, command: Command) => {
      const globals = globalOptions(command);
      const { page, now } = await withQueue(globals, async (queue) => ({
        page: await queue.listPage({ status: flags.status, type: flags.type, queue: flags.queue, limit: flags.limit, afterId: flags.after, order: flags.order }),
        now: Date.now(),
      }));
      if (globals.json) {
        printJson({ tasks: page.tasks.map(taskJson), next: page.next });
        return;
      }
      if (page.tasks.length === 0) {
        printLine('no tasks');
        return;
      }
      const colour = useColour(globals.json);
      // Progress and counters get columns only when a task on the page has some: a queue that
      // uses neither keeps its narrow table.
      const reported = page.tasks.some((task) => task.progress !== null || Object.keys(task.counters).length > 0);
      const reports = (task: Task) => (reported ? [task.progress === null ? null : clip(JSON.stringify(task.progress), 30), countersText(task.counters)] : []);
      printTable(
        ['ID', 'STATUS', 'TYPE', 'QUEUE', 'PRI', 'ATTEMPTS', ...(reported ? ['PROGRESS', 'COUNTERS'] : []), 'RUN AT', 'UPDATED', 'LAST ERROR'],
        page.tasks.map((task) => [
          task.id,
          statusViewOf(task, now),
          task.type,
          task.queue,
          task.priority,
          `${task.attempts - task.releasedAttempts}/${task.maxAttempts}`,
          ...reports(task),
          iso(task.runAt),
          iso(task.updatedAt),
          // The first line (class and message), marked when more follow; `show` prints the whole error.
          clip(task.lastError, 200),
        ]),
        {
          width: flags.wide ? undefined : terminalWidth(),
          fixed: [0, 1, 4, 5],
          paint: colour ? (text, column, row) => (column === 1 ? paintStatus(text, String(row[1])) : text) : undefined,
        },
      );
      if (page.next !== null) printLine(`(more: --after ${page.next}${flags.order === 'desc' ? ' --order desc' : ''})`);
    });
}
