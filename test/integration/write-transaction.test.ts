import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PersistenceError, TasklockError } from '@tasklock/core';
import { openDatabase, type TasklockDatabase } from '@tasklock/core/sqlite';
import { Database } from '../utils/core-deps.js';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  await killAllFixtures();
  removeTempDirs();
});

async function open(path: string, options?: Parameters<typeof openDatabase>[1]): Promise<TasklockDatabase> {
  const db = await openDatabase(path, options);
  cleanups.push(() => db.close());
  return db;
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

const insert = (key: string, value: string) => (conn: TasklockDatabase['connection']) =>
  conn.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);

function metaValue(db: TasklockDatabase, key: string): string | undefined {
  const row = db.connection.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

describe('SQLITE_BUSY from a connection outside tasklock', () => {
  it('is retried with backoff, then surfaces as a persistence error that wrote nothing', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const db = await open(dbPath, { busyTimeoutMs: 20, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    const outsider = new Database(dbPath);
    cleanups.push(() => outsider.close());
    outsider.exec('BEGIN IMMEDIATE');

    const error = await rejection(db.write(insert('busy', '1'), { label: 'busy-test' }));
    expect(error).toBeInstanceOf(PersistenceError);
    expect(error).toMatchObject({ code: 'persistence' });
    expect((error as PersistenceError).engineCode).toMatch(/^SQLITE_BUSY/);
    expect((error as Error).message).toMatch(/^busy-test failed after 3 attempts: SQLITE_BUSY/);
    expect(db.metrics.busyRetries).toBe(2);
    expect(db.metrics.failures).toBe(1);
    expect(db.connection.inTransaction).toBe(false);

    outsider.exec('ROLLBACK');
    expect(metaValue(db, 'busy')).toBeUndefined();
  });

  it('a write retrying on BUSY goes through once the outside transaction commits', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const db = await open(dbPath, { busyTimeoutMs: 20, retry: { attempts: 50, baseDelayMs: 5, maxDelayMs: 20 } });
    const outsider = new Database(dbPath);
    cleanups.push(() => outsider.close());
    outsider.exec('BEGIN IMMEDIATE');
    outsider.prepare("INSERT INTO meta (key, value) VALUES ('outsider', '1')").run();

    const write = db.write(insert('late', '1'));
    await vi.waitFor(() => expect(db.metrics.busyRetries).toBeGreaterThanOrEqual(1));
    outsider.exec('COMMIT');
    await write;

    expect(metaValue(db, 'late')).toBe('1');
    expect(metaValue(db, 'outsider')).toBe('1');
    expect(db.metrics.failures).toBe(0);
    console.log(`BUSY retry: write committed after ${db.metrics.busyRetries} busy retries`);
  });
});

describe('SQLITE_FULL', () => {
  it('fails at once, changes nothing, and the same write succeeds once space returns', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const db = await open(dbPath);
    await db.write((conn) => {
      for (let i = 0; i < 5; i += 1) insert(`row-${i}`, `value-${i}`)(conn);
    });
    const snapshot = () => db.connection.prepare('SELECT key, value FROM meta ORDER BY key').all();
    const before = snapshot();
    const pageCount = db.connection.pragma('page_count', { simple: true }) as number;
    db.connection.pragma(`max_page_count = ${pageCount}`);

    // Two statements: the small update fits, the blob does not; neither may survive.
    const bigWrite = (conn: TasklockDatabase['connection']) => {
      conn.prepare("UPDATE meta SET value = 'changed' WHERE key = 'row-0'").run();
      insert('blob', 'x'.repeat(256 * 1024))(conn);
    };
    const error = await rejection(db.write(bigWrite));
    expect(error).toBeInstanceOf(PersistenceError);
    expect((error as PersistenceError).engineCode).toBe('SQLITE_FULL');
    expect(db.metrics.busyRetries).toBe(0);
    expect(db.metrics.failures).toBe(1);
    expect(db.connection.inTransaction).toBe(false);
    expect(snapshot()).toEqual(before);

    db.connection.pragma('max_page_count = 1073741823');
    await db.write(bigWrite);
    expect(metaValue(db, 'row-0')).toBe('changed');
    expect(metaValue(db, 'blob')).toHaveLength(256 * 1024);
    expect(snapshot()).toHaveLength(before.length + 1);
  });
});

describe('lock timeout', () => {
  async function outsideHolder(dbPath: string) {
    const holder = startFixture('lock-client.mjs', [dbPath, 'os']);
    await holder.waitForLine('ready os');
    holder.send('acquire 5000');
    await holder.waitForLine(/^acquired \d+$/);
    return holder;
  }

  it('fails closed: rejects with lock-timeout, writes nothing, and leaves the lock to others', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const db = await open(dbPath, { lock: 'os', lockTimeoutMs: 200 });
    const holder = await outsideHolder(dbPath);

    const error = await rejection(db.write(insert('timed-out', '1')));
    expect(error).toBeInstanceOf(TasklockError);
    expect(error).toMatchObject({ code: 'lock-timeout' });
    expect(db.metrics.lockTimeouts).toBe(1);
    expect(db.metrics.transactions).toBe(1); // the migration at open only

    // The abandoned kernel wait gets the lock when the holder lets go; it must hand it back,
    // or the holder could never take it again.
    holder.send('release');
    await holder.waitForLine('released');
    holder.send('acquire 5000');
    expect((await holder.waitForLine(/^(acquired|error) .*$/))[1]).toBe('acquired');
    holder.send('release');
    await holder.waitForLine('released');

    await db.write(insert('after', '1'));
    expect(metaValue(db, 'timed-out')).toBeUndefined();
    expect(metaValue(db, 'after')).toBe('1');
  });

  it('a writer arriving while the abandoned kernel wait is parked takes the lock it brings', async () => {
    const dbPath = join(makeTempDir(), 'q.db');
    const impatient = await open(dbPath, { lock: 'os', lockTimeoutMs: 200 });
    const patient = await open(dbPath, { lock: 'os', lockTimeoutMs: 10_000 });
    const holder = await outsideHolder(dbPath);

    expect(await rejection(impatient.write(insert('timed-out', '1')))).toMatchObject({ code: 'lock-timeout' });
    const write = patient.write(insert('patient', '1'));
    holder.send('release');
    await holder.waitForLine('released');
    await write;

    holder.send('acquire 5000');
    expect((await holder.waitForLine(/^(acquired|error) .*$/))[1]).toBe('acquired');
    expect(metaValue(patient, 'patient')).toBe('1');
    expect(metaValue(patient, 'timed-out')).toBeUndefined();
  });
});

interface StalledResult {
  ok: boolean;
  invocations: number;
  busyRetries: number;
}

/**
 * A and B open one database (lockfile, stale 2 s). A's write body blocks its event loop for
 * `stallMs` (no mtime refresh); B starts its write while A is stalled, takes the lock over once
 * it is 2 s stale, and then waits in SQLite's busy handler until A's transaction ends. B's body
 * holds for 300 ms and fails if `<db>.lock` is gone. Both bodies fail on finding the other's pid
 * in the critical-section marker.
 */
async function stalledHolder(stallMs: number) {
  const dir = makeTempDir();
  const dbPath = join(dir, 'q.db');
  const marker = join(dir, 'inside.pid');
  const setup = await openDatabase(dbPath, { lock: 'lockfile', lockStaleMs: 2000 });
  await setup.write(insert('counter', '0'));
  setup.close();

  const a = startFixture('stalled-writer.mjs', [dbPath, marker, String(stallMs), 'blockOnce']);
  const b = startFixture('stalled-writer.mjs', [dbPath, marker, '300', 'blockEvery']);
  await Promise.all([a.waitForLine('ready'), b.waitForLine('ready')]);
  a.send('go');
  await a.waitForLine('in');
  b.send('go');
  const [resultA, resultB] = await Promise.all(
    [a, b].map(async (child) => {
      const result = JSON.parse((await child.waitForLine(/^result (.*)$/))[1]!) as StalledResult;
      await child.succeeded();
      return result;
    }),
  );
  const checks = (lines: readonly string[]) => lines.filter((l) => l.startsWith('lockcheck ')).map((l) => l.slice(10));
  for (const [name, child] of [['A', a], ['B', b]] as const) {
    console.log(`stalled ${stallMs} ms, ${name}: ${child.lines.filter((l) => !l.startsWith('ready')).join(' | ')}`);
  }
  const check = await openDatabase(dbPath, { lock: 'lockfile', lockStaleMs: 2000 });
  const counter = Number(metaValue(check, 'counter'));
  check.close();
  return { a: resultA!, b: resultB!, checksA: checks(a.lines), checksB: checks(b.lines), counter };
}

describe('a proper-lockfile holder stalled past stale', () => {
  it('loses the lock before COMMIT and retries; the process that took it over commits first time', async () => {
    const { a, b, checksA, checksB, counter } = await stalledHolder(2700);
    expect(a).toMatchObject({ ok: true, invocations: 2, busyRetries: 1 });
    expect(checksA[0]).toMatch(/another process replaced the lock directory/);
    // A's release after losing the lock left B's directory alone (B's body checked it exists).
    expect(b).toMatchObject({ ok: true, invocations: 1, busyRetries: 0 });
    expect(checksB).toEqual(['ours']);
    expect(counter).toBe(2);
  });

  it('stalled 3.5 s: never two inside, and the lock taken over is never deleted under its new holder', async () => {
    const { a, b, checksA, checksB, counter } = await stalledHolder(3500);
    expect(a).toMatchObject({ ok: true, invocations: 2, busyRetries: 1 });
    expect(checksA[0]).toMatch(/another process replaced the lock directory/);
    // B waits ~1.5 s in SQLite's busy handler for A's transaction to end, its event loop blocked
    // like A's: its own lock then goes unrefreshed past 3/4 of stale and it retries too. What
    // must never happen is that its directory disappears under it.
    expect(b.ok).toBe(true);
    expect(b.busyRetries).toBe(b.invocations - 1);
    for (const reason of checksB.slice(0, -1)) expect(reason).toMatch(/not refreshed for \d+ ms|replaced/);
    expect(checksB.at(-1)).toBe('ours');
    expect(counter).toBe(2);
  });
});
