/**
 * The stores a multi-process test runs its worker processes against: a location each process
 * opens for itself (a fresh SQLite file, a fresh PostgreSQL database), and the cleanup of what
 * they left (call it in afterEach).
 */
import { join } from 'node:path';
import { killAllFixtures } from './fixture-process.js';
import { dropPgDatabases, makePgDatabase } from './pg-database.js';
import { makeTempDir, removeTempDirs } from './temp-dir.js';

export const PROCESS_STORES = [
  { name: 'sqlite', db: () => Promise.resolve(join(makeTempDir(), 'q.db')) },
  { name: 'postgres', db: () => makePgDatabase() },
] as const;

/** Kills the fixtures still running, then removes their files and databases. */
export async function cleanupProcessStores(): Promise<void> {
  await killAllFixtures();
  removeTempDirs();
  await dropPgDatabases();
}
