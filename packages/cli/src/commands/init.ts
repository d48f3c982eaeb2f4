import type { Command } from 'commander';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printLine } from '../output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the database, or migrate it to the current schema')
    .option('--reset-lock-strategy', 're-record the lock strategy (only with every other process on this database stopped)')
    .action(async (options: { resetLockStrategy?: boolean }, command: Command) => {
      const globals = globalOptions(command);
      await withQueue(
        globals,
        (queue) => {
          const { db } = queue;
          if (globals.json) {
            printJson({
              schemaVersion: db.schemaVersion,
              lock: { strategy: db.lockStrategy, path: db.lock.path },
              path: db.path,
              appliedMigrations: db.appliedMigrations,
            });
            return;
          }
          const migrated = db.appliedMigrations.length === 0 ? 'up to date' : `applied migration(s) ${db.appliedMigrations.join(', ')}`;
          printLine(`database        ${db.path}`);
          printLine(`schema version  ${db.schemaVersion} (${migrated})`);
          printLine(`lock strategy   ${db.lockStrategy} (${db.lock.path})`);
        },
        { create: true, resetLockStrategy: options.resetLockStrategy ?? false },
      );
    });
}
