import { Argument, type Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { duration, taskIds } from '../options.js';
import { reportEnds, waitForEnds } from '../task-ends.js';

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description(
      'wait until the tasks have ended (woken by the store, not by polling); prints "<id> <status> <result or error>" per task. Exit 0 all succeeded, 1 any failed or cancelled, 2 an unknown id, 124 timed out',
    )
    .addArgument(new Argument('<ids...>', 'task ids').argParser(taskIds))
    .option('--timeout <duration>', 'give up after this long (exit 124; 250ms, 30s, 5m…); default: wait as long as it takes', duration)
    .action(async (ids: number[], flags: { timeout?: number }, command: Command) => {
      const globals = globalOptions(command);
      await withQueue(globals, (queue) => waitForEnds(queue, ids, flags.timeout, (tasks) => reportEnds(tasks, globals.json)));
    });
}
