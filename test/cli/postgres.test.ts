// The CLI on the PostgreSQL store: the same commands with --db postgres://… or TASKLOCK_DB, and
// one line and the usual exit code when the server cannot be used.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cli, cliJson } from '../utils/cli.js';
import { pg } from '../utils/core-deps.js';
import { dropPgDatabases, makePgDatabase, withDatabase } from '../utils/pg-database.js';

afterEach(() => dropPgDatabases());

describe('tasklock on PostgreSQL', () => {
  it('init, enqueue, worker --until-empty --exec, show: the task ran, its log is whole (TASKLOCK_DB names the store)', async () => {
    const url = await makePgDatabase();
    const env = { TASKLOCK_DB: url };
    expect((await cli(['init'], { env })).stdout).toMatch(/^store\s+postgres \d+/m);
    const enqueued = await cli(['enqueue', 'mail', '{"to":"a@example.com"}'], { env });
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const id = Number(enqueued.stdout.trim());
    const worker = await cli(['worker', '--until-empty', '--exec', 'cat > /dev/null'], { env });
    expect(worker.code, worker.stderr).toBe(0);
    const shown = await cliJson<{ task: { status: string }; runs: { outcome: string }[]; events: { transition: string }[] }>(url, ['show', String(id)]);
    expect(shown.task.status).toBe('succeeded');
    expect(shown.runs.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(shown.events.map((e) => e.transition)).toEqual(['enqueue', 'claim', 'complete']);
  });

  it("doctor: the server's checks and the queue's, each one line, exit 0", async () => {
    const url = await makePgDatabase();
    expect((await cli(['--db', url, 'init'])).code).toBe(0);
    const result = await cli(['--db', url, 'doctor']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[1])).toEqual(['write', 'server', 'schema', 'transactions', 'connections', 'leases', 'workers']);
    expect(result.stdout).toMatch(/^ok\s+server\s+PostgreSQL \d+/m);
  });

  it('worker against an unreachable server: one line naming it, exit 1 (it waits only with --wait-for-store)', async () => {
    const result = await cli(['--db', 'postgres://tasklock@127.0.0.1:1/nowhere', 'worker', '--exec', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tasklock: cannot reach PostgreSQL at postgres:\/\/tasklock@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED.*\n$/);
  });

  it('an unreachable server: one line naming it, exit 1, nothing else said', async () => {
    const result = await cli(['--db', 'postgres://tasklock@127.0.0.1:1/nowhere', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tasklock: cannot reach PostgreSQL at postgres:\/\/tasklock@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED.*\n$/);
    expect(result.stdout).toBe('');
  });

  it('a database that does not exist, or a role the server does not know: one line, exit 2 (the location is wrong)', async () => {
    const missing = await cli(['--db', withDatabase(inject('pgUrl'), 'no_such_database'), 'list']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tasklock: cannot open the PostgreSQL store at .*no_such_database: 3D000: .*\n$/);
    const url = new URL(await makePgDatabase());
    url.username = 'no_such_role';
    const stranger = await cli(['--db', url.toString(), 'list']);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/^tasklock: cannot open the PostgreSQL store at .*: 28000: .*no_such_role.*\n$/);
  });

  it("another application's database (its own schema named tasklock): one line, exit 2, its tables untouched", async () => {
    const url = await makePgDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE SCHEMA tasklock; CREATE TABLE tasklock.tasks (theirs int)');
      const result = await cli(['--db', url, 'init']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^tasklock: .*its schema "tasklock" was not made by tasklock.*\n$/);
      expect((await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'tasklock'")).rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });
});
