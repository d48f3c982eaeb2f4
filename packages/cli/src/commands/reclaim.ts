import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { duration } from '../options.js';
import { printJson, printLine } from '../output.js';

export function registerReclaim(program: Command): void {
  program
    .command('reclaim')
    // The command's name before schema 3; scripts that call it keep working.
    .alias('recover')
    .description(
      'take back the tasks of expired leases and of dead workers on this host (first killing what their handlers left running here): pending again, or failed once their attempts are used up; prune old worker rows',
    )
    .option('--worker-retention <duration>', 'delete rows of workers stopped or crashed longer ago than this (default 7d)', duration)
    .action(async (flags: { workerRetention?: number }, command: Command) => {
      const globals = globalOptions(command);
      const result = await withQueue(globals, (queue) =>
        queue.reclaim(flags.workerRetention === undefined ? {} : { workerRetentionMs: flags.workerRetention }),
      );
      const reclaimed = result.leaseExpired + result.deadOwner;
      if (globals.json) {
        printJson({ reclaimed, ...result });
        return;
      }
      const dead = result.deadWorkers.length === 0 ? '' : ` (${result.deadWorkers.join(', ')})`;
      printLine(`reclaimed ${reclaimed} task(s): ${result.leaseExpired} with an expired lease, ${result.deadOwner} of dead worker(s)${dead}`);
      for (const k of result.killedGroups) printLine(`task ${k.taskId}: killed process group ${k.pgid} of its previous attempt (${k.members} process(es), gone after ${k.waitedMs} ms)`);
      for (const b of result.blocked) printLine(`task ${b.taskId}: process group ${b.pgid} of its previous attempt is still alive; left running`);
      if (result.pruned > 0) printLine(`pruned ${result.pruned} ended worker row(s)`);
    });
}
