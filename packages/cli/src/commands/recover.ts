import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine } from '../output.js';

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('return to pending the tasks of expired leases and of dead workers on this host')
    .action(async (_flags: object, command: Command) => {
      const globals = globalOptions(command);
      const result = await withQueue(globals, (queue) => queue.recover());
      const reclaimed = result.expired + result.deadOwner;
      if (globals.json) {
        printJson({ reclaimed, ...result });
        return;
      }
      const dead = result.deadWorkers.length === 0 ? '' : ` (${result.deadWorkers.join(', ')})`;
      printLine(`reclaimed ${reclaimed} task(s): ${result.expired} with an expired lease, ${result.deadOwner} of dead worker(s)${dead}`);
    });
}
