import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { duration } from '../options.js';
import { printJson, printLine } from '../output.js';

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description(
      'return to pending the tasks of expired leases and of dead workers on this host (first killing what their handlers left running here), and prune old worker rows',
    )
    .option('--worker-retention <duration>', 'delete rows of workers stopped or crashed longer ago than this (default 7d)', duration)
    .action(async (flags: { workerRetention?: number }, command: Command) => {
      const globals = globalOptions(command);
      const result = await withQueue(globals, (queue) =>
        queue.recover(flags.workerRetention === undefined ? {} : { workerRetentionMs: flags.workerRetention }),
      );
      const reclaimed = result.expired + result.deadOwner;
      if (globals.json) {
        printJson({ reclaimed, ...result });
        return;
      }
      const dead = result.deadWorkers.length === 0 ? '' : ` (${result.deadWorkers.join(', ')})`;
      printLine(`reclaimed ${reclaimed} task(s): ${result.expired} with an expired lease, ${result.deadOwner} of dead worker(s)${dead}`);
      for (const k of result.killedGroups) printLine(`task ${k.taskId}: killed process group ${k.pgid} of its previous attempt (${k.members} process(es), gone after ${k.waitedMs} ms)`);
      for (const b of result.blocked) printLine(`task ${b.taskId}: process group ${b.pgid} of its previous attempt is still alive; left running`);
      if (result.pruned > 0) printLine(`pruned ${result.pruned} ended worker row(s)`);
    });
}
