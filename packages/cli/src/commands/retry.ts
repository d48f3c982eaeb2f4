import { Argument, type Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine, taskJson } from '../output.js';
import { taskId } from '../options.js';

export function registerRetry(program: Command): void {
  program
    .command('retry')
    .description('put a failed or cancelled task back to pending, with at least one more attempt')
    .addArgument(new Argument('<id>', 'task id').argParser(taskId))
    .action(async (id: number, _flags: object, command: Command) => {
      const globals = globalOptions(command);
      const task = await withQueue(globals, (queue) => queue.retry(id));
      if (globals.json) printJson({ task: taskJson(task) });
      else printLine(`task ${task.id} is pending again (attempt ${task.attempts - task.releasedAttempts + 1} of ${task.maxAttempts})`);
    });
}
