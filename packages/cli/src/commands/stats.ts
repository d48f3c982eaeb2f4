import type { Command } from 'commander';
import { BadInputError, STATUS_VIEWS } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { formatDuration } from '../duration.js';
import { duration } from '../options.js';
import { paintStatus, printJson, printLine, printTable, terminalWidth, useColour } from '../output.js';
import { watchStats } from '../stats-watch.js';

const MIN_INTERVAL_MS = 50;

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('task counts (scheduled = pending, not yet due), counters summed per type, oldest pending age, overdue leases, workers, lock and write metrics')
    .option('--watch', 'a live view until Ctrl-C: redrawn on a terminal, one line per sample when piped (--json: one object per line)')
    .option('--interval <duration>', 'with --watch: time between samples (default 1s)', duration)
    .action(async (flags: { watch?: boolean; interval?: number }, command: Command) => {
      const globals = globalOptions(command);
      if (flags.interval !== undefined && !flags.watch) throw new BadInputError('--interval needs --watch');
      if (flags.watch) {
        const intervalMs = flags.interval ?? 1000;
        if (intervalMs < MIN_INTERVAL_MS) throw new BadInputError(`--interval must be at least ${MIN_INTERVAL_MS}ms`);
        await withQueue(globals, (queue) => watchStats(queue, { intervalMs, json: globals.json }));
        return;
      }
      const stats = await withQueue(globals, (queue) => queue.stats());
      if (globals.json) {
        printJson(stats);
        return;
      }
      const colour = useColour(globals.json);
      printLine(STATUS_VIEWS.map((status) => (colour ? paintStatus(`${status} ${stats.counts[status]}`, status) : `${status} ${stats.counts[status]}`)).join(', '));
      printLine(`oldest pending   ${stats.oldestPendingAgeMs === 0 ? '-' : formatDuration(stats.oldestPendingAgeMs)}`);
      printLine(`overdue leases   ${stats.overdueLeases}`);
      printLine(`workers          ${stats.workers.live} live of ${stats.workers.total} registered`);
      printLine(`store            ${stats.store.engine} ${stats.store.engineVersion}, ${stats.store.location}`);
      printLine(`lock             ${stats.store.lock.strategy} (${stats.store.lock.path})`);
      printLine(`schema version   ${stats.store.schemaVersion}`);
      const wait = stats.writes.lockWaitMs;
      printLine(`this process     ${stats.writes.transactions} write(s), lock wait p50 ${wait.p50.toFixed(2)} ms, max ${wait.max.toFixed(2)} ms`);
      const queues = Object.entries(stats.byQueue);
      if (queues.length > 1 || Object.keys(stats.byType).length > 1) {
        printLine();
        printTable(
          ['QUEUE / TYPE', ...STATUS_VIEWS.map((s) => s.toUpperCase())],
          [
            ...queues.map(([name, counts]) => [`queue ${name}`, ...STATUS_VIEWS.map((s) => counts[s])]),
            ...Object.entries(stats.byType).map(([name, counts]) => [`type ${name}`, ...STATUS_VIEWS.map((s) => counts[s])]),
          ],
          { width: terminalWidth() },
        );
      }
      const counted = Object.entries(stats.countersByType);
      if (counted.length > 0) {
        printLine();
        printTable(
          ['TYPE', 'COUNTER', 'SUM'],
          counted.flatMap(([type, counters]) => Object.entries(counters).map(([name, sum]) => [type, name, sum])),
          { width: terminalWidth() },
        );
      }
    });
}
