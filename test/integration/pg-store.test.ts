// The PostgreSQL store's own behaviour under the queue (what every store must do is in
// test/conformance/, run there against PostgreSQL too): its clock, its connections.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { PG_HOT_PATH_SQL, pgPool } from '@tasklock/core/postgres';
import { type OneStatement, pgWrite, pgWriteOne } from '../../packages/core/src/storage/postgres/pg-write.js';
import { WriteMetrics } from '../../packages/core/src/storage/write-metrics.js';
import { pg } from '../utils/core-deps.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { pgBinDir } from '../utils/pg-server.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

const opened: Queue[] = [];

afterEach(async () => {
  for (const queue of opened.splice(0)) queue.close();
  await dropPgDatabases();
  removeTempDirs();
});

async function open(url: string): Promise<Queue> {
  const queue = await Queue.open(url);
  opened.push(queue);
  return queue;
}

async function admin<T>(url: string, fn: (client: InstanceType<typeof pg.Client>) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL store', () => {
  it("keeps working after the server ends its idle connections (pg_terminate_backend): the pool lets them go and reconnects", async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    await queue.enqueue('a', {});
    const database = new URL(url).pathname.slice(1);
    const ended = await admin(url, async (client) =>
      (await client.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])).rowCount,
    );
    expect(ended).toBeGreaterThan(0);
    // At once: whether the pool has heard of the ended connections yet or not, the write goes
    // through (a connection found dead at BEGIN is replaced; nothing had been sent on it).
    const second = await queue.enqueue('b', {});
    expect((await queue.get(second.id)).status).toBe('pending');
    expect((await queue.stats()).counts.pending).toBe(2);
  });

  it('a claim and a busy finish-and-claim (one statement each, no BEGIN) also go through at once after the server ends the idle connections', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    await queue.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ type: 'a', payload: i })));
    const [first] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 1 });
    // A first finish prunes the finish counts in a transaction: the next takes the one-statement path.
    const warmed = await queue.finishAndClaim([{ kind: 'complete', lease: { id: first!.id, leaseToken: first!.leaseToken }, workerId: 'w', result: 1 }], { workerId: 'w', leaseMs: 60_000, limit: 1 });
    const database = new URL(url).pathname.slice(1);
    const terminate = () => admin(url, async (client) => (await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])).rowCount);
    expect(await terminate()).toBeGreaterThan(0);
    const [third] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 1 });
    expect(third).toBeDefined();
    expect(await terminate()).toBeGreaterThan(0);
    const held = [...warmed.claimed, third!];
    const { statuses, claimed } = await queue.finishAndClaim(
      held.map((task) => ({ kind: 'complete' as const, lease: { id: task.id, leaseToken: task.leaseToken }, workerId: 'w', result: 2 })),
      { workerId: 'w', leaseMs: 60_000, limit: 1 },
    );
    expect(statuses).toEqual(['succeeded', 'succeeded']);
    expect(claimed).toHaveLength(1);
    expect((await queue.stats()).counts).toMatchObject({ succeeded: 3, running: 1 });
  });

  it("judges run_at by the server's clock: a delay is measured from the server's now, a time given is kept", async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    const serverNow = await admin(url, async (client) => Number((await client.query('SELECT tasklock.now_ms() AS ms')).rows[0].ms));
    const delayed = await queue.enqueue('d', {}, { delayMs: 60_000 });
    const at = await queue.enqueue('t', {}, { runAt: Date.parse('2030-01-01T00:00:00Z') });
    expect(delayed.runAt - delayed.createdAt).toBe(60_000);
    expect(delayed.createdAt).toBeGreaterThanOrEqual(serverNow);
    expect(at.runAt).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });
});

describe('PostgreSQL finish counts', () => {
  it("a finishing transaction does not wait for another's count of the same second, type and outcome: each connection counts in its own row", async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    await queue.enqueueMany([{ type: 'job', payload: 1 }]);
    const [task] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 1 });
    const second = 1_700_000_000;
    const holder = new pg.Client({ connectionString: url });
    const finisher = new pg.Client({ connectionString: url });
    await holder.connect();
    await finisher.connect();
    try {
      // Another worker's finish, counted and not yet committed: it holds its count row's lock.
      await holder.query('BEGIN');
      await holder.query(PG_HOT_PATH_SQL.countFinishes, [second, 'job', 'succeeded', 3]);
      // With one row per (second, type, outcome) this waits for the holder's COMMIT: 55P03 after 2 s.
      await finisher.query('BEGIN');
      await finisher.query("SET LOCAL lock_timeout = '2s'");
      const done = await finisher.query(PG_HOT_PATH_SQL.completeMany, [[task!.id], [task!.leaseToken], ['null'], ['w'], second * 1000 + 500]);
      expect(done.rows.map((row) => Number(row.id))).toEqual([task!.id]);
      await finisher.query('COMMIT');
      await holder.query('COMMIT');
    } finally {
      await holder.end();
      await finisher.end();
    }
    const counts = await admin(url, async (client) =>
      (await client.query("SELECT sum(count)::int AS total, count(*)::int AS rows FROM tasklock.finish_counts WHERE second = $1 AND type = 'job' AND outcome = 'succeeded'", [second])).rows[0],
    );
    expect(counts).toEqual({ total: 4, rows: 2 });
    expect((await queue.get(task!.id)).status).toBe('succeeded');
  });

  it('a store handle prunes counts older than an hour with its first finish', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    const now = await admin(url, async (client) => Number((await client.query('SELECT floor(tasklock.now_ms() / 1000) AS s')).rows[0].s));
    await admin(url, (client) =>
      client.query("INSERT INTO tasklock.finish_counts (second, type, outcome, writer, count) VALUES ($1, 'old', 'succeeded', 0, 1), ($2, 'recent', 'succeeded', 0, 1)", [now - 7200, now - 600]),
    );
    await queue.enqueue('job', {});
    const [task] = await queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 1 });
    await queue.complete({ id: task!.id, leaseToken: task!.leaseToken }, null, 'w');
    const types = await admin(url, async (client) => (await client.query('SELECT type, sum(count)::int AS n FROM tasklock.finish_counts GROUP BY type ORDER BY type')).rows);
    expect(types).toEqual([
      { type: 'job', n: 1 },
      { type: 'recent', n: 1 },
    ]);
  });
});

describe('pgWriteOne', () => {
  it('runs a lone statement as its own transaction, and refuses a second one in the same body', async () => {
    const url = await makePgDatabase();
    const pool = pgPool(url, 1);
    const metrics = new WriteMetrics();
    try {
      // Inside BEGIN … COMMIT, now() is the BEGIN's time, earlier than the statement's.
      const inBlock = async (db: OneStatement) => (await db.query<{ block: boolean }>('SELECT now() < statement_timestamp() AS block')).rows[0]!.block;
      expect(await pgWrite(pool, metrics, inBlock)).toBe(true);
      expect(await pgWriteOne(pool, metrics, inBlock)).toBe(false);
      await expect(
        pgWriteOne(pool, metrics, async (db) => {
          await db.query('SELECT 1');
          await db.query('SELECT 2');
        }),
      ).rejects.toThrow('a second statement would be a transaction of its own');
      expect(metrics.snapshot()).toMatchObject({ transactions: 2, failures: 1 });
    } finally {
      await pool.end();
    }
  });

  it('tries a statement again on another connection when its connection was cut while it ran (it rolled back)', async () => {
    const url = await makePgDatabase();
    const pool = pgPool(url, 2);
    const metrics = new WriteMetrics();
    try {
      const marker = `cut-me-${process.pid}`;
      const write = pgWriteOne(pool, metrics, async (db) => (await db.query<{ v: string }>(`SELECT pg_sleep(0.3), $1::text AS v`, [marker])).rows[0]!.v);
      let cut = 0;
      while (cut === 0) {
        cut = await admin(url, async (client) =>
          (await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(0.3)%' AND state = 'active'")).rowCount ?? 0,
        );
      }
      expect(await write).toBe(marker);
      expect(metrics.snapshot()).toMatchObject({ transactions: 1, busyRetries: 1, failures: 0 });
    } finally {
      await pool.end();
    }
  });
});

describe("the PostgreSQL store's clock", () => {
  it('now_ms() truncates to whole milliseconds as Date.now() does: never ahead of the clock it reads', async () => {
    const url = await makePgDatabase();
    await open(url);
    // Each row reads the clock twice, now_ms() first: a rounding now_ms() would be ahead of the
    // later exact reading in about half the rows; a truncating one never is.
    const ahead = await admin(url, async (client) =>
      (
        await client.query<{ ahead: number }>(
          `SELECT count(*) FILTER (WHERE ms > exact)::int AS ahead
           FROM (SELECT tasklock.now_ms() AS ms, extract(epoch FROM clock_timestamp()) * 1000 AS exact FROM generate_series(1, 2000)) AS readings`,
        )
      ).rows[0]!.ahead,
    );
    expect(ahead).toBe(0);
  });
});

describe("the PostgreSQL store's live view", () => {
  it('counts an event that commits after one with a higher id (identity values are taken at insert, not at commit)', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    const [early, late] = await queue.enqueueMany([{ type: 'x', payload: 1 }, { type: 'x', payload: 2 }]);
    const monitor = queue.monitor();
    expect((await monitor.sample()).failuresLastMinute).toEqual({ attempts: 0, final: 0 });
    const reclaimEvent = `INSERT INTO tasklock.task_events (task_id, at, transition, from_status, to_status, attempt, detail)
                          VALUES ($1, tasklock.now_ms(), 'reclaim', 'running', 'pending', 1, 'test') RETURNING id`;
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      const lower = (await slow.query<{ id: string }>(reclaimEvent, [early!.id])).rows[0]!.id;
      const higher = await admin(url, async (client) => (await client.query<{ id: string }>(reclaimEvent, [late!.id])).rows[0]!.id);
      expect(Number(higher)).toBeGreaterThan(Number(lower));
      expect((await monitor.sample()).failuresLastMinute).toEqual({ attempts: 1, final: 0 });
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    // The lower id, visible only now, is counted once; nothing is counted twice.
    expect((await monitor.sample()).failuresLastMinute).toEqual({ attempts: 2, final: 0 });
    expect((await monitor.sample()).failuresLastMinute).toEqual({ attempts: 2, final: 0 });
  });
});

describe("doctor's checks on PostgreSQL", () => {
  it('all pass on a fresh store: an empty write, the server, the schema, transactions, connections', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    const checks = await queue.diagnose();
    expect(checks.map((c) => [c.name, c.ok, c.warning ?? false])).toEqual([
      ['write', true, false],
      ['server', true, false],
      ['schema', true, false],
      ['transactions', true, false],
      ['connections', true, false],
    ]);
    expect(checks.find((c) => c.name === 'schema')!.detail).toMatch(/^schema tasklock, version \d+ \(current\)$/);
  });

  it('a transaction left open on locked task rows fails the check, naming its pid; an old one elsewhere is a warning', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    await queue.enqueue('stuck', {});
    const holder = new pg.Client({ connectionString: url, application_name: 'left-open' });
    const idle = new pg.Client({ connectionString: url, application_name: 'reporting' });
    await holder.connect();
    await idle.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT id FROM tasklock.tasks WHERE status = 'pending' FOR UPDATE");
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await idle.query('BEGIN');
      await idle.query('SELECT 1');
      // Its rows are passed by: the task is not claimable while the transaction stays open.
      expect(await queue.claim({ workerId: 'w' })).toEqual([]);
      // Both transactions open for longer than 10 × 100 ms (the horizon warning's bound).
      await expect.poll(async () => (await queue.diagnose({ longTransactionMs: 100 })).find((c) => c.name === 'transactions')!.detail, { timeout: 10_000, interval: 50 }).toMatch(/open longer than 0\.1 s hold locks/);
      const failing = (await queue.diagnose({ longTransactionMs: 100 })).find((c) => c.name === 'transactions')!;
      expect(failing.ok).toBe(false);
      expect(failing.detail).toContain(`pid ${pid} (idle in transaction, left-open)`);
      expect(failing.detail).toContain('pg_terminate_backend');
      await holder.query('COMMIT');
      await expect.poll(async () => (await queue.diagnose({ longTransactionMs: 100 })).find((c) => c.name === 'transactions'), { timeout: 10_000, interval: 50 }).toMatchObject({
        ok: true,
        warning: true,
        detail: expect.stringMatching(/1 transaction\(s\) open longer than 1 s in this database hold back vacuum.*reporting/),
      });
      expect(await queue.claim({ workerId: 'w' })).toHaveLength(1);
    } finally {
      await holder.end();
      await idle.end();
    }
  });
});

describe('backup of a PostgreSQL store with pg_dump (as the README says)', () => {
  it('pg_dump --schema=tasklock while a queue is open, pg_restore into an empty database: the same tasks, runs and events, and new ids after the old', async () => {
    const source = await makePgDatabase();
    const queue = await open(source);
    const [done, failed, waiting] = await queue.enqueueMany([
      { type: 'a', payload: { n: 1 } },
      { type: 'b', payload: { n: 2 }, maxAttempts: 1 },
      { type: 'c', payload: { n: 3 } },
    ]);
    const [first, second] = await queue.claim({ workerId: 'w', limit: 2 });
    await queue.complete(first!, { ok: true });
    await queue.fail(second!, 'boom');
    const dump = join(makeTempDir(), 'tasklock.dump');
    execFileSync(join(pgBinDir(), 'pg_dump'), ['--schema=tasklock', '--format=custom', `--file=${dump}`, source]);
    const target = await makePgDatabase();
    execFileSync(join(pgBinDir(), 'pg_restore'), [`--dbname=${target}`, dump]);

    const restored = await open(target);
    for (const task of [done!, failed!, waiting!]) {
      expect(await restored.get(task.id)).toEqual(await queue.get(task.id));
      expect(await restored.runs(task.id)).toEqual(await queue.runs(task.id));
      expect(await restored.events(task.id)).toEqual(await queue.events(task.id));
    }
    expect((await restored.get(failed!.id)).status).toBe('failed');
    expect((await restored.diagnose()).every((check) => check.ok)).toBe(true);
    const next = await restored.enqueue('d', {});
    expect(next.id).toBeGreaterThan(waiting!.id);
  });
});
