// The one better-sqlite3 of the repo: resolved from @tasklock/core's package, so the ceiling, the
// baselines and the peers (plainjob is handed our instance; liteque resolves the same copy as its
// peer dependency) all run the very binding and SQLite build that tasklock runs.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const corePackage = fileURLToPath(new URL('../../packages/core/package.json', import.meta.url));
export const requireFromCore = createRequire(corePackage);
/** @type {typeof import('better-sqlite3')} */
export const Database = requireFromCore('better-sqlite3');
export const betterSqlite3Path = requireFromCore.resolve('better-sqlite3');
