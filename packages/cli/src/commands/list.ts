import type { Command } from 'commander';
import type { TaskStatus } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { clip, iso, printJson, printLine, printTable, taskJson } from '../output.js';
import { positiveInteger, status, taskId } from '../options.js';

interface ListFlags {
  status?: TaskStatus;
  type?: string;
  queue?: string;
  limit: number;
  after?: number;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list tasks in id order')
    .option('--status <status>', 'only tasks in this status (pending, running, succeeded, failed, cancelled)', status)
    .option('--type <type>', 'only tasks of this type')
    .option('--queue <name>', 'only tasks of this queue')
    .option('--limit <n>', 'at most this many tasks', positiveInteger, 100)
    .option('--after <id>', 'only tasks with a larger id (to page through)', taskId)
    .action(async (flags: ListFlags, command: Command) => {
      const globals = globalOptions(command);
      const tasks = await withQueue(globals, (queue) =>
        queue.list({ status: flags.status, type: flags.type, queue: flags.queue, limit: flags.limit, afterId: flags.after }),
      );
      if (globals.json) {
        printJson({ tasks: tasks.map(taskJson) });
        return;
      }
      if (tasks.length === 0) {
        printLine('no tasks');
        return;
      }
      printTable(
        ['ID', 'STATUS', 'TYPE', 'QUEUE', 'PRI', 'ATTEMPTS', 'RUN AT', 'UPDATED', 'LAST ERROR'],
        tasks.map((task) => [
          task.id,
          task.status,
          task.type,
          task.queue,
          task.priority,
          `${task.attempts - task.releasedAttempts}/${task.maxAttempts}`,
          iso(task.runAt),
          iso(task.updatedAt),
          clip(task.lastError, 50),
        ]),
      );
      if (tasks.length === flags.limit) printLine(`(first ${flags.limit}; next page: --after ${tasks[tasks.length - 1]!.id})`);
    });
}
