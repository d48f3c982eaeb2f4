import { Argument, type Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { addBulkOptions, bulkTarget, reportBulk, type BulkFlags } from '../bulk-command.js';
import { printJson, printLine, taskJson } from '../output.js';
import { taskIds } from '../options.js';

export function registerRetry(program: Command): void {
  const command = program
    .command('retry')
    .description('put failed or cancelled tasks back to pending, by id or by filter, 500 per transaction, each with at least one more attempt')
    .addArgument(new Argument('[ids...]', 'task ids (or a filter instead: --status, --type, --queue, --older-than)').argParser(taskIds));
  addBulkOptions(command, 'failed, cancelled; default both').action(async (ids: number[] | undefined, flags: BulkFlags, command: Command) => {
    const globals = globalOptions(command);
    const target = bulkTarget(ids ?? [], flags);
    if (Array.isArray(target) && target.length === 1 && !flags.dryRun) {
      // One id: the task itself, or the error saying why not.
      const task = await withQueue(globals, (queue) => queue.retry(target[0]!));
      if (globals.json) printJson({ task: taskJson(task) });
      else printLine(`task ${task.id} is pending again (attempt ${task.attempts - task.releasedAttempts + 1} of ${task.maxAttempts})`);
      return;
    }
    const result = await withQueue(globals, (queue) => queue.retryMany(target, { dryRun: flags.dryRun ?? false }));
    reportBulk(result, { done: 'retried', would: 'retry', move: 'be retried' }, globals.json);
  });
}
