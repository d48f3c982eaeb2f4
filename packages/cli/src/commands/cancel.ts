import { Argument, type Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine, taskJson } from '../output.js';
import { taskId } from '../options.js';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('cancel a pending or running task (a running handler is aborted at its next heartbeat)')
    .addArgument(new Argument('<id>', 'task id').argParser(taskId))
    .option('--reason <text>', 'recorded with the cancel event')
    .action(async (id: number, flags: { reason?: string }, command: Command) => {
      const globals = globalOptions(command);
      const task = await withQueue(globals, (queue) => queue.cancel(id, flags.reason ?? null));
      if (globals.json) printJson({ task: taskJson(task) });
      else printLine(`task ${task.id} cancelled`);
    });
}
