import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { iso, printJson, printLine, printTable, workerJson, workerState } from '../output.js';

export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description('registered workers: live, stopped, and dead ones not yet recovered')
    .action(async (_flags: object, command: Command) => {
      const globals = globalOptions(command);
      const workers = await withQueue(globals, (queue) => queue.workers());
      if (globals.json) {
        printJson({ workers: workers.map(workerJson) });
        return;
      }
      if (workers.length === 0) {
        printLine('no workers');
        return;
      }
      printTable(
        ['ID', 'STATE', 'PID', 'HOST', 'QUEUE', 'TYPES', 'STARTED', 'LAST SEEN'],
        workers.map((w) => [w.id, workerState(w), w.pid, w.host, w.queue, w.types === null ? '*' : (JSON.parse(w.types) as string[]).join(','), iso(w.started_at), iso(w.last_seen)]),
      );
    });
}
