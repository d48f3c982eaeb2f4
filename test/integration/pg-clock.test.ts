/**
 * Machines with wrong clocks on one PostgreSQL store. Leases, run_at and heartbeats are judged by
 * the server's clock (tasklock.now_ms()), never a client's: a worker whose clock is an hour
 * behind must not stall (its leases are not born expired), one an hour ahead must not steal (its
 * sweep does not see live leases as expired), and a producer's delay runs from the server's now.
 * Each skewed process is a real process with its Date off by an hour (fixtures/skewed-clock.mjs,
 * preloaded); its timers are not, as on a real machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { cli } from '../utils/cli.js';
import { pg } from '../utils/core-deps.js';
import { fixturePath, killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { until } from '../utils/until.js';

const HOUR_MS = 3_600_000;
const LEASE_MS = 2000;

afterEach(async () => {
  await killAllFixtures();
  await dropPgDatabases();
});

const skewed = (skewMs: number) => ({ NODE_OPTIONS: `--import=${fixturePath('skewed-clock.mjs')}`, TASKLOCK_TEST_CLOCK_SKEW_MS: String(skewMs) });

async function serverNow(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ ms: string }>('SELECT tasklock.now_ms() AS ms')).rows[0]!.ms);
  } finally {
    await client.end();
  }
}

/** Transactions committed in the test's database so far (its own stats flushed first; other backends' lag by up to a second while busy). */
async function commits(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_force_next_flush()');
    return Number((await client.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('clocks an hour off, one PostgreSQL store', () => {
  it('a worker an hour behind keeps its lease; a worker an hour ahead neither steals it nor stamps its own runs in its hour', async () => {
    const url = await makePgDatabase();
    const queue = await Queue.open(url);
    try {
      const held = await queue.enqueue('held', {});
      const behind = startFixture('queue-worker.mjs', [JSON.stringify({ db: url, hold: 1, concurrency: 1, types: ['held'], leaseMs: LEASE_MS, workerId: 'behind' })], { env: skewed(-HOUR_MS) });
      await behind.waitForLine(/^holding 1/);
      const claimed = await queue.get(held.id);
      // Born by the server's clock: a lease counted from the worker's clock would have expired an hour ago.
      const atClaim = await serverNow(url);
      expect(claimed.leaseExpiresAt! - atClaim).toBeGreaterThan(0);
      expect(claimed.leaseExpiresAt! - atClaim).toBeLessThanOrEqual(LEASE_MS);

      const ahead = startFixture('queue-worker.mjs', [JSON.stringify({ db: url, leaseMs: LEASE_MS, reclaimEveryMs: 50, workerId: 'ahead', types: ['other'] })], { env: skewed(HOUR_MS) });
      await ahead.waitForLine(/^started/);
      // Three leases' worth of the ahead worker's sweeps (every 50 ms), while the behind one heartbeats.
      const from = await serverNow(url);
      await until('three lease lengths on the server', async () => (await serverNow(url)) > from + 3 * LEASE_MS);
      expect(await queue.get(held.id)).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'behind' });
      expect((await queue.runs(held.id)).map((r) => r.outcome)).toEqual(['running']);
      const behindRow = (await queue.workers()).find((w) => w.id === 'behind')!;
      expect(Math.abs(behindRow.last_seen - (await serverNow(url)))).toBeLessThan(LEASE_MS);

      // The ahead worker's own run is stamped by the server, not an hour ahead.
      const other = await queue.enqueue('other', {});
      await until('the ahead worker to run its task', async () => (await queue.get(other.id)).status === 'succeeded');
      const [run] = await queue.runs(other.id);
      const now = await serverNow(url);
      expect(Math.abs(run!.started_at - now)).toBeLessThan(10_000);
      expect(Math.abs(run!.finished_at! - now)).toBeLessThan(10_000);
    } finally {
      queue.close();
    }
  });

  it('an idle worker an hour ahead sleeps until a scheduled task is due by the server, rather than spinning on a task its clock calls overdue', async () => {
    const url = await makePgDatabase();
    const queue = await Queue.open(url);
    try {
      const scheduled = await queue.enqueue('job', {}, { delayMs: 60_000 });
      const ahead = startFixture('queue-worker.mjs', [JSON.stringify({ db: url, workerId: 'ahead' })], { env: skewed(HOUR_MS) });
      await ahead.waitForLine(/^started/);
      const commitsBefore = await commits(url);
      // A window to observe an idle process in (not a wait for anything to happen).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // Idle, it looks at most every maxPollMs (250 ms), a few reads each, plus its sweep and
      // heartbeat: tens of transactions. Sleeping 1 ms at a time (its clock calling the task an
      // hour overdue) it makes two reads a millisecond or so: hundreds (measured 935 in 3 s with the client-clock arithmetic put back).
      const made = (await commits(url)) - commitsBefore;
      expect(made).toBeLessThan(300);
      expect(await queue.get(scheduled.id)).toMatchObject({ status: 'pending', attempts: 0 });
    } finally {
      queue.close();
    }
  });

  it("a producer an hour ahead: `enqueue --delay 5s` is due 5 s after the server's now, not an hour later", async () => {
    const url = await makePgDatabase();
    const result = await cli(['--db', url, 'enqueue', 'later', '{}', '--delay', '5s'], { env: skewed(HOUR_MS) });
    expect(result.code, result.stderr).toBe(0);
    const queue = await Queue.open(url);
    try {
      const task = await queue.get(Number(result.stdout.trim()));
      expect(task.runAt - task.createdAt).toBe(5000);
      expect(Math.abs(task.createdAt - (await serverNow(url)))).toBeLessThan(10_000);
    } finally {
      queue.close();
    }
  });
});
