import type { Command } from 'commander';
import type { TaskStatus } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine } from '../output.js';
import { duration, statusList } from '../options.js';

export function registerPurge(program: Command): void {
  program
    .command('purge')
    .description('delete finished tasks (with their runs and events) not updated for a while')
    .requiredOption('--older-than <duration>', 'last updated at least this long ago (7d, 12h, 30m, or ms)', duration)
    .option('--status <statuses>', 'only these terminal statuses, comma-separated (default succeeded,failed,cancelled)', statusList)
    .action(async (flags: { olderThan: number; status?: TaskStatus[] }, command: Command) => {
      const globals = globalOptions(command);
      const deleted = await withQueue(globals, (queue) => queue.purge({ olderThanMs: flags.olderThan, statuses: flags.status }));
      if (globals.json) printJson({ deleted });
      else printLine(`deleted ${deleted} task(s)`);
    });
}
