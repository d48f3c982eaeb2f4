import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { iso, printJson, printLine, printTable, workerJson, workerState } from '../output.js';

export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description('registered workers: live ones and dead ones not yet reclaimed (--all: stopped and crashed ones too, until pruned)')
    .option('--all', 'also workers that stopped gracefully or were found crashed (kept for the retention, default 7d)')
    .action(async (flags: { all?: boolean }, command: Command) => {
      const globals = globalOptions(command);
      const all = await withQueue(globals, (queue) => queue.workers());
      const workers = flags.all ? all : all.filter((w) => w.stopped_at === null && w.crashed_at === null);
      if (globals.json) {
        printJson({ workers: workers.map(workerJson) });
        return;
      }
      if (workers.length === 0) {
        const ended = all.length - workers.length;
        printLine(ended > 0 ? `no live workers (${ended} stopped or crashed: tasklock workers --all)` : 'no workers');
        return;
      }
      printTable(
        ['ID', 'STATE', 'PID', 'HOST', 'QUEUE', 'TYPES', 'STARTED', 'LAST SEEN', 'ENDED', 'FOUND BY'],
        workers.map((w) => [
          w.id,
          workerState(w),
          w.pid,
          w.host,
          w.queue,
          w.types === null ? '*' : (JSON.parse(w.types) as string[]).join(','),
          iso(w.started_at),
          iso(w.last_seen),
          iso(w.stopped_at ?? w.crashed_at),
          w.crashed_by,
        ]),
      );
    });
}
