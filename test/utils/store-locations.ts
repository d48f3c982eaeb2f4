/**
 * A fresh store location of each kind, for tests whose other party is a real OS process (a
 * worker fixture, the CLI) and which therefore name the store by location rather than open it
 * through the conformance suite: a SQLite file in a temp dir, a PostgreSQL database on the run's
 * server. cleanupLocations() (afterEach) kills the fixtures and removes both.
 */
import { join } from 'node:path';
import { killAllFixtures } from './fixture-process.js';
import { dropPgDatabases, makePgDatabase } from './pg-database.js';
import { makeTempDir, removeTempDirs } from './temp-dir.js';

export const LOCATIONS: readonly { name: string; make(): Promise<string> }[] = [
  { name: 'sqlite', make: async () => join(makeTempDir(), 'q.db') },
  { name: 'postgres', make: makePgDatabase },
];

export async function cleanupLocations(): Promise<void> {
  await killAllFixtures();
  removeTempDirs();
  await dropPgDatabases();
}
