// The test run's own PostgreSQL server (test/utils/pg-server.ts): it answers on its unix socket,
// is PostgreSQL ≥ 13, and gives each test a database of its own.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { pg } from '../utils/core-deps.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';

afterEach(() => dropPgDatabases());

describe('the tests\' PostgreSQL server', () => {
  it('answers on a unix socket only, runs with the tests\' settings, and is version 13 or newer', async () => {
    const url = new URL(inject('pgUrl'));
    const client = new pg.Client({ connectionString: inject('pgUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string; listen: string; fsync: string }>(
        "SELECT current_setting('server_version_num') AS version, current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync",
      );
      expect(Number(rows[0]!.version)).toBeGreaterThanOrEqual(130000);
      if (!process.env.TASKLOCK_TEST_PG) {
        expect(rows[0]!.listen).toBe('');
        expect(rows[0]!.fsync).toBe('off'); // the tests' settings reached the server (packages/stress/src/pg-server.ts)
        expect(decodeURIComponent(url.hostname)).toMatch(/^\//);
      }
    } finally {
      await client.end();
    }
  });

  it('gives each test a fresh database of its own', async () => {
    const [a, b] = [await makePgDatabase(), await makePgDatabase()];
    expect(a).not.toBe(b);
    const first = new pg.Client({ connectionString: a });
    await first.connect();
    try {
      await first.query('CREATE TABLE marker (x int)');
    } finally {
      await first.end();
    }
    const second = new pg.Client({ connectionString: b });
    await second.connect();
    try {
      const { rows } = await second.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'marker'");
      expect(rows[0]!.n).toBe(0);
    } finally {
      await second.end();
    }
  });
});
