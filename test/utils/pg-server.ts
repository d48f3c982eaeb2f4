/**
 * The tests' private PostgreSQL server: scripts/pg-cluster.mjs (shared with the bench) with
 * durability off (fsync=off: a test server's data is thrown away).
 *
 * TASKLOCK_TEST_PG=postgres://… points the tests at an existing server instead.
 */
import { startPgServer as startCluster, type PgServer } from '../../scripts/pg-cluster.mjs';

export { pgBinDir } from '../../scripts/pg-cluster.mjs';

const TEST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 200 };

export function startPgServer(): PgServer {
  return startCluster({ settings: TEST_SETTINGS });
}
