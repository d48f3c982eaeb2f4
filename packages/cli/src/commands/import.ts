import { createInterface } from 'node:readline';
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { BadInputError, readExport, type ParsedExport } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine } from '../output.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'write the tasks of an `export` into this store (created if needed), ids, runs and events kept: every line checked first, then all in one transaction; a bad line or an id the store already has refuses it all (exit 2)',
    )
    .argument('<file>', 'the export to read; "-" reads stdin')
    .action(async (file: string, _flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      // Read and checked whole before the store is opened: a bad file leaves no trace, not even a new database.
      const data = await readFrom(file);
      const result = await withQueue(globals, (queue) => queue.importTasks(data), { create: true });
      if (globals.json) {
        printJson(result);
        return;
      }
      printLine(
        `imported ${result.tasks} task(s), ${result.runs} run(s), ${result.events} stored event(s) from ${file === '-' ? 'stdin' : file} (exported from ${result.source.engine} at ${result.exportedAt})`,
      );
    });
}

async function readFrom(file: string): Promise<ParsedExport> {
  if (file === '-') return readExport(createInterface({ input: process.stdin, crlfDelay: Infinity }), 'stdin');
  const handle = await open(file).catch((error: unknown) => {
    throw new BadInputError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  });
  try {
    return await readExport(handle.readLines(), file);
  } finally {
    await handle.close();
  }
}
