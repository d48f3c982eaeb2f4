import type { Command } from 'commander';
import { TASK_STATUSES } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { formatDuration } from '../duration.js';
import { printJson, printLine, printTable } from '../output.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('task counts, oldest pending age, overdue leases, workers, lock and write metrics')
    .action(async (_flags: object, command: Command) => {
      const globals = globalOptions(command);
      const stats = await withQueue(globals, (queue) => queue.stats());
      if (globals.json) {
        printJson(stats);
        return;
      }
      printLine(TASK_STATUSES.map((status) => `${status} ${stats.counts[status]}`).join(', '));
      printLine(`oldest pending   ${stats.oldestPendingAgeMs === 0 ? '-' : formatDuration(stats.oldestPendingAgeMs)}`);
      printLine(`overdue leases   ${stats.overdueLeases}`);
      printLine(`workers          ${stats.workers.live} live of ${stats.workers.total} registered`);
      printLine(`lock             ${stats.lock.strategy} (${stats.lock.path})`);
      printLine(`schema version   ${stats.schemaVersion}`);
      const wait = stats.writes.lockWaitMs;
      printLine(`this process     ${stats.writes.transactions} write(s), lock wait p50 ${wait.p50.toFixed(2)} ms, max ${wait.max.toFixed(2)} ms`);
      const queues = Object.entries(stats.byQueue);
      if (queues.length > 1 || Object.keys(stats.byType).length > 1) {
        printLine();
        printTable(
          ['QUEUE / TYPE', ...TASK_STATUSES.map((s) => s.toUpperCase())],
          [
            ...queues.map(([name, counts]) => [`queue ${name}`, ...TASK_STATUSES.map((s) => counts[s])]),
            ...Object.entries(stats.byType).map(([name, counts]) => [`type ${name}`, ...TASK_STATUSES.map((s) => counts[s])]),
          ],
        );
      }
    });
}
