import type { Command } from 'commander';
import type { StatusView } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { withLineSink } from '../line-sink.js';
import { printJson, printLine } from '../output.js';
import { nameList, statusViewList } from '../options.js';

interface ExportFlags {
  out?: string;
  force?: boolean;
  status?: StatusView[];
  type?: string[];
  queue?: string[];
  allowRunning?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write every task whole (row, runs, stored events) as NDJSON, a page at a time, to move the queue to another store with `import`; refused while tasks are running (stop the workers first)',
    )
    .option('--out <file>', 'write to this file (mode 0600; it appears only once the export is whole) instead of stdout')
    .option('--force', 'replace an existing --out file')
    .option('--status <statuses>', 'only these statuses, comma-separated (pending, scheduled, running, succeeded, failed, cancelled)', statusViewList)
    .option('--type <types>', 'only these task types, comma-separated', nameList)
    .option('--queue <names>', 'only these queues, comma-separated', nameList)
    .option(
      '--allow-running',
      "export running tasks as they are instead of refusing: their leases belong to this store's workers, and the target takes them back once the leases run out",
    )
    .action(async (flags: ExportFlags, command: Command) => {
      const globals = globalOptions(command);
      const options = { status: flags.status, type: flags.type, queue: flags.queue, allowRunning: flags.allowRunning ?? false };
      const counts = await withQueue(globals, (queue) =>
        withLineSink(flags.out ?? null, flags.force ?? false, (sink) => queue.exportTasks(options, (line) => sink.write(line))),
      );
      // On stdout the export is the output: nothing else goes there.
      if (flags.out === undefined) return;
      if (globals.json) printJson({ file: flags.out, ...counts });
      else printLine(`exported ${counts.tasks} task(s), ${counts.runs} run(s), ${counts.events} stored event(s) to ${flags.out}`);
    });
}
