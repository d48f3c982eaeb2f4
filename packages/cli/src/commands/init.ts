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
          const store = queue.describe();
          if (globals.json) {
            printJson({
              engine: store.engine,
              engineVersion: store.engineVersion,
              schemaVersion: store.schemaVersion,
              lock: store.lock,
              path: store.location,
              appliedMigrations: store.appliedMigrations,
            });
            return;
          }
          const migrated = store.appliedMigrations.length === 0 ? 'up to date' : `applied migration(s) ${store.appliedMigrations.join(', ')}`;
          printLine(`store           ${store.engine} ${store.engineVersion}`);
          printLine(`database        ${store.location}`);
          printLine(`schema version  ${store.schemaVersion} (${migrated})`);
          printLine(`lock strategy   ${store.lock.strategy} (${store.lock.path})`);
        },
        { create: true, resetLockStrategy: options.resetLockStrategy ?? false },
      );
    });
}
