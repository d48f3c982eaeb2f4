import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { formatDuration } from '../duration.js';
import { printJson, printLine } from '../output.js';

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('copy the database to <dest> while workers run: one consistent snapshot, integrity-checked, mode 0600')
    .argument('<dest>', 'file to write; refused if it exists, unless --force')
    .option('--force', 'replace an existing <dest>, once the new copy has passed its check')
    .action(async (dest: string, flags: { force?: boolean }, command: Command) => {
      const globals = globalOptions(command);
      const { source, result } = await withQueue(globals, async (queue) => ({
        source: queue.describe().location,
        result: await queue.backup(dest, { force: flags.force ?? false }),
      }));
      if (globals.json) {
        printJson({ source, ...result });
        return;
      }
      const took = formatDuration(result.durationMs);
      printLine(`backup of ${globals.db} → ${dest}: ${result.pages} pages (${formatBytes(result.bytes)}) in ${took}, integrity ${result.integrity}`);
    });
}

/** 5_033_164 → "4.8 MiB": for human output only. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
