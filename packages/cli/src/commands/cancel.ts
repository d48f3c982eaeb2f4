import { Argument, type Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { addBulkOptions, bulkTarget, reportBulk, type BulkFlags } from '../bulk-command.js';
import { printJson, printLine, taskJson } from '../output.js';
import { taskIds } from '../options.js';

export function registerCancel(program: Command): void {
  const command = program
    .command('cancel')
    .description('cancel pending or running tasks, by id or by filter, 500 per transaction (a running handler is aborted at its next heartbeat)')
    .addArgument(new Argument('[ids...]', 'task ids (or a filter instead: --status, --type, --queue, --older-than)').argParser(taskIds))
    .option('--reason <text>', 'recorded with each cancel event');
  addBulkOptions(command, 'pending, scheduled, running; default all three').action(
    async (ids: number[] | undefined, flags: BulkFlags & { reason?: string }, command: Command) => {
      const globals = globalOptions(command);
      const target = bulkTarget(ids ?? [], flags);
      const reason = flags.reason ?? null;
      if (Array.isArray(target) && target.length === 1 && !flags.dryRun) {
        // One id: the task itself, or the error saying why not.
        const task = await withQueue(globals, (queue) => queue.cancel(target[0]!, reason));
        if (globals.json) printJson({ task: taskJson(task) });
        else printLine(`task ${task.id} cancelled`);
        return;
      }
      const result = await withQueue(globals, (queue) => queue.cancelMany(target, { reason, dryRun: flags.dryRun ?? false }));
      reportBulk(result, { done: 'cancelled', would: 'cancel', move: 'be cancelled' }, globals.json);
    },
  );
}
