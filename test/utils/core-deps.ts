import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The core package's own dependencies, resolved from packages/core so that the tests load the
 * very same modules (one SQLite library per process: a second copy would drop the first one's
 * POSIX locks when it closes a descriptor on the same file).
 */
const requireFromCore = createRequire(fileURLToPath(new URL('../../packages/core/package.json', import.meta.url)));

export const Database = requireFromCore('better-sqlite3') as typeof BetterSqlite3;
export type RawConnection = BetterSqlite3.Database;

export interface OsLockAddon {
  tryLock(fd: number): boolean;
  waitForLock(fd: number): Promise<void>;
  unlock(fd: number): void;
}

export const osLockAddon = requireFromCore('fs-native-extensions') as OsLockAddon;

/** node-postgres, the PostgreSQL store's driver: the tests' own connections to their server. */
export const pg = requireFromCore('pg') as typeof import('pg');
