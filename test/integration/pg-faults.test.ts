// PostgreSQL faults under a real worker: a connection cut mid-transaction, a connection cut
// during COMMIT (the commit took, the client never heard), a server restart mid-drain and a
// statement timeout. Each must lose no task and double no completion (one succeeded run per
// task, one execution per task), and the worker must log the outage once and recover.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue, Worker, type WorkerStats } from '@tasklock/core';
import { MIGRATION_LOCK_KEY } from '@tasklock/core/postgres';
import { killAllWorkers, startWorker } from '../utils/cli.js';
import { pg } from '../utils/core-deps.js';
import { dropPgDatabases, makePgDatabase, withDatabase } from '../utils/pg-database.js';
import { startPgServer, type PgServer } from '../utils/pg-server.js';

type Client = InstanceType<typeof pg.Client>;

const opened: Queue[] = [];

afterEach(async () => {
  await killAllWorkers();
  for (const queue of opened.splice(0)) queue.close();
  await dropPgDatabases();
});

/** The URL with connection parameters added (application_name, statement_timeout…), as a user would give them. */
function withParams(url: string, params: Record<string, string>): string {
  const parsed = new URL(url);
  for (const [name, value] of Object.entries(params)) parsed.searchParams.set(name, value);
  return parsed.toString();
}

async function open(url: string): Promise<Queue> {
  const queue = await Queue.open(url);
  opened.push(queue);
  return queue;
}

async function connect(url: string): Promise<Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a terminated test connection must not crash the run
  await client.connect();
  return client;
}

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A worker whose log is kept, and whose handler counts executions per task and may wait at a gate. */
function logWorker(queue: Queue, id: string, handler: (taskId: number) => Promise<unknown>, options: { concurrency?: number } = {}) {
  const logged: string[] = [];
  const executions = new Map<number, number>();
  const worker = new Worker(
    queue,
    async (_payload, ctx) => {
      executions.set(ctx.id, (executions.get(ctx.id) ?? 0) + 1);
      return handler(ctx.id);
    },
    { id, leaseMs: 30_000, log: (_level, message) => logged.push(message), ...options },
  );
  return { worker, logged, executions, done: worker.start() };
}

/** Lost nothing, doubled nothing: every task succeeded with exactly one run, and that run succeeded. */
async function expectEachSucceededOnce(queue: Queue, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    expect((await queue.get(id)).status).toBe('succeeded');
    expect((await queue.runs(id)).map((run) => run.outcome)).toEqual(['succeeded']);
    expect((await queue.events(id)).filter((event) => event.transition === 'complete')).toHaveLength(1);
  }
}

/** The outage logged once when it started (naming the failure) and once when it ended. */
function expectOneOutage(logged: string[], stats: WorkerStats, failure: RegExp): void {
  expect(logged.filter((line) => line.startsWith('lost the store'))).toEqual([expect.stringMatching(failure)]);
  expect(logged.filter((line) => line.startsWith('store reachable again'))).toEqual([expect.stringMatching(/^store reachable again after \d+\.\d s, \d+ attempts$/)]);
  expect(stats.storeOutages).toBe(1);
  // Nor a line per failed call, nor a refusal.
  expect(logged.filter((line) => !line.startsWith('lost the store') && /rejected|could not persist|claim failed|heartbeat failed|sweep failed/.test(line))).toEqual([]);
}

/** Holds a task's row lock from another connection (BEGIN; SELECT … FOR UPDATE) until released. */
async function lockRow(url: string, taskId: number): Promise<{ client: Client; release: () => Promise<void> }> {
  const client = await connect(url);
  await client.query('BEGIN');
  await client.query('SELECT id FROM tasklock.tasks WHERE id = $1 FOR UPDATE', [taskId]);
  return {
    client,
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** The pids of `application`'s backends waiting on a lock: its write transaction is open and blocked mid-way. */
async function blockedBackends(client: Client, application: string): Promise<number[]> {
  return vi.waitFor(async () => {
    // Inside a transaction (the lock holder's), the statistics views are a snapshot taken at their first read.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application]);
    expect(rows.length).toBeGreaterThan(0);
    return rows.map((row) => row.pid);
  }, { timeout: 15_000, interval: 20 });
}

/** One task, claimed by a worker whose handler waits until `finish()`: its completion then goes to the store. */
async function heldAttempt(url: string, workerId: string) {
  const queue = await open(url);
  const task = await queue.enqueue('job', {});
  const running = gate();
  const finish = gate();
  const run = logWorker(queue, workerId, async () => {
    running.open();
    await finish.opened;
    return 'done';
  });
  await running.opened;
  return { queue, task, ...run, finish: finish.open };
}

/** The held attempt's completion stored once, counted once (not rejected), its handler run once, one outage logged. */
async function expectCompletedOnce(held: Awaited<ReturnType<typeof heldAttempt>>, failure: RegExp): Promise<void> {
  const { queue, task, worker, logged, executions, done } = held;
  await vi.waitFor(async () => expect((await queue.get(task.id)).status).toBe('succeeded'));
  await vi.waitFor(() => expect(worker.stats().succeeded).toBe(1));
  const stats = await worker.stop();
  expect(await done).toMatchObject({ succeeded: 1, rejected: 0, aborted: 0 });
  expect(executions.get(task.id)).toBe(1);
  await expectEachSucceededOnce(queue, [task.id]);
  expectOneOutage(logged, stats, failure);
}

describe('PostgreSQL faults under a worker', () => {
  it('a connection cut mid-transaction (pg_terminate_backend while its completion waits on a row lock): retried, stored once; the outage logged once', async () => {
    const url = await makePgDatabase();
    const held = await heldAttempt(withParams(url, { application_name: 'cut-victim' }), 'cut');
    const holder = await lockRow(url, held.task.id);
    held.finish();
    const pids = await blockedBackends(holder.client, 'cut-victim');
    await holder.client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await vi.waitFor(() => expect(held.logged.some((line) => line.startsWith('lost the store'))).toBe(true));
    // The transaction died with its connection: nothing of it was kept, the task is still ours.
    expect((await held.queue.get(held.task.id)).status).toBe('running');
    await holder.release();
    await expectCompletedOnce(held, /^lost the store: .*57P01.*terminating connection due to administrator command; retrying with backoff$/);
  });

  it('a statement timeout (statement_timeout in the connection string; the completion waits on a locked row past it): retried until the lock goes, stored once', async () => {
    const url = await makePgDatabase();
    const held = await heldAttempt(withParams(url, { statement_timeout: '200' }), 'timeout');
    const holder = await lockRow(url, held.task.id);
    held.finish();
    // Several timeouts in a row, while the worker's reads keep succeeding: still one outage.
    await vi.waitFor(() => expect(held.worker.stats().storeRetries).toBeGreaterThanOrEqual(3), { timeout: 20_000 });
    expect((await held.queue.get(held.task.id)).status).toBe('running');
    await holder.release();
    await expectCompletedOnce(held, /^lost the store: .*57014.*statement timeout; retrying with backoff$/);
  });
});

describe('PostgreSQL faults while `tasklock worker` starts', () => {
  it('--wait-for-store: a connection cut while the worker opens the store (migrating, under the migration lock): it waits with backoff, logs the outage once, then drains', async () => {
    const url = await makePgDatabase();
    const queue = await open(url);
    const task = await queue.enqueue('job', {});
    // The migration lock held elsewhere: the starting worker's open waits on it, mid-transaction.
    const holder = await connect(url);
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const worker = startWorker(withParams(url, { application_name: 'starting' }), ['--until-empty', '--wait-for-store', '--exec', 'cat > /dev/null', '--worker-id', 'starting']);
    const pids = await blockedBackends(holder, 'starting');
    await holder.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await vi.waitFor(() => expect(worker.log()).toMatch(/lost the store: .*57P01/), { timeout: 10_000 });
    // Waiting on the lock again, not exited.
    await blockedBackends(holder, 'starting');
    await holder.query('ROLLBACK');
    await holder.end();
    const exited = await worker.exited;
    expect(exited.code, exited.stderr).toBe(0);
    expect(exited.stderr.match(/lost the store/g)).toHaveLength(1);
    expect(exited.stderr).toMatch(/store reachable again after \d+\.\d s, \d+ attempts/);
    await expectEachSucceededOnce(queue, [task.id]);
  });
});

describe('PostgreSQL faults that need a server of their own', () => {
  // Restarted and reconfigured here: never the run's shared server.
  let server: PgServer;
  let databases = 0;

  beforeAll(() => {
    server = startPgServer();
  });

  afterAll(() => server?.stop());

  async function database(): Promise<string> {
    const name = `faults_${(databases += 1)}`;
    const admin = await connect(server.url);
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return withDatabase(server.url, name);
  }

  it('a connection cut during COMMIT (the commit took, the client never heard): the retry is refused by the fence, found stored, counted once', async () => {
    const url = await database();
    const held = await heldAttempt(withParams(url, { application_name: 'commit-victim', options: '-c synchronous_commit=on' }), 'commit-cut');
    const admin = await connect(url);
    try {
      // From here a commit of the victim's (synchronous_commit=on; the server's default is off)
      // waits for a synchronous standby that does not exist: durable locally, unacknowledged.
      await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'tasklock_nobody'");
      await admin.query('SELECT pg_reload_conf()');
      await untilCommitsWait(url, admin);
      held.finish();
      const pids = await vi.waitFor(async () => {
        const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'commit-victim' AND wait_event = 'SyncRep'");
        expect(rows.length).toBe(1);
        return rows.map((row) => row.pid);
      });
      await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
      await admin.query("ALTER SYSTEM RESET synchronous_standby_names");
      await admin.query('SELECT pg_reload_conf()');
      await vi.waitFor(() => expect(held.logged.some((line) => line.startsWith('lost the store'))).toBe(true));
      // The completion did commit: its backend's end made it visible. The worker only saw the cut.
      await vi.waitFor(async () => expect((await admin.query('SELECT status FROM tasklock.tasks WHERE id = $1', [held.task.id])).rows[0].status).toBe('succeeded'));
    } finally {
      await admin.end();
    }
    // Its retry met the fence (the task was no longer running under its lease); the run showed
    // the earlier commit was its own, so it is a success, counted once, and not a rejection.
    // The server ends a backend waiting for its standby without a word: the socket just closes.
    await expectCompletedOnce(held, /^lost the store: .*(57P01|Connection terminated unexpectedly); retrying with backoff$/);
  });

  it('a server restart mid-drain (pg_ctl restart -m fast): every task succeeds once; the outage logged once', async () => {
    const url = await database();
    const queue = await open(url);
    const tasks = await queue.enqueueMany(Array.from({ length: 400 }, (_, i) => ({ type: 'job', payload: { i } })));
    const { worker, logged, executions, done } = logWorker(queue, 'restart', () => new Promise((resolve) => setTimeout(() => resolve('ok'), 30)), { concurrency: 8 });
    await vi.waitFor(() => expect(worker.stats().succeeded).toBeGreaterThanOrEqual(40), { timeout: 20_000 });
    await server.restart();
    await vi.waitFor(() => expect(worker.stats().succeeded).toBe(tasks.length), { timeout: 30_000 });
    const stats = await worker.stop();
    expect(await done).toMatchObject({ succeeded: tasks.length, rejected: 0, aborted: 0, failed: 0 });
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
    expect(executions.size).toBe(tasks.length);
    await expectEachSucceededOnce(queue, tasks.map((task) => task.id));
    expectOneOutage(logged, stats, /^lost the store: .*; retrying with backoff$/);
  });
});

/**
 * Waits until a synchronous_commit=on commit waits for the absent standby: the reloaded setting
 * has reached the server (a probe commits before that, and hangs after; it is then cut).
 */
async function untilCommitsWait(url: string, admin: Client): Promise<void> {
  await vi.waitFor(async () => {
    const probe = await connect(withParams(url, { application_name: 'sync-probe', options: '-c synchronous_commit=on' }));
    try {
      // A write (a temporary table's catalog rows): a transaction that changed nothing does not wait.
      const committed = probe.query('CREATE TEMP TABLE sync_probe ()').then(() => 'committed', () => 'cut');
      const waiting = vi.waitFor(
        async () => {
          const { rowCount } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'sync-probe' AND wait_event = 'SyncRep'");
          expect(rowCount).toBe(1);
          return 'waiting';
        },
        { timeout: 2000, interval: 10 },
      );
      expect(await Promise.race([committed, waiting])).toBe('waiting');
    } finally {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sync-probe'");
      await probe.end().catch(() => undefined);
    }
  });
}
