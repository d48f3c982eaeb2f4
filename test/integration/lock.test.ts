import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockLostError, LockUnavailableError } from '@tasklock/core';
import { openDatabase, WriteLock, type LockStrategy } from '@tasklock/core/sqlite';
import { fixturePath, killAllFixtures, startFixture, type FixtureProcess } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

const PROCESSES = 4;
/** proper-lockfile waiters poll, so its strategy gets fewer rounds in the same time. */
const ROUNDS: Record<'os' | 'lockfile', { lock: number; db: number; inProcess: number }> = {
  os: { lock: 300, db: 200, inProcess: 200 },
  lockfile: { lock: 40, db: 30, inProcess: 40 },
};
const STALE_MS = 2000;

/** Descriptors this process has open on `<db>.lock` (Linux /proc). */
function lockFileDescriptors(dbPath: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === `${dbPath}.lock`) count += 1;
    } catch {
      // The descriptor readdir itself used, closed by now.
    }
  }
  return count;
}

async function startTogether(children: FixtureProcess[], ready: string): Promise<void> {
  await Promise.all(children.map((child) => child.waitForLine(ready)));
  for (const child of children) child.send('go');
}

describe.each(['os', 'lockfile'] as const)('write lock exclusion, strategy %s', (strategy) => {
  it(`${PROCESSES} processes incrementing a counter file under the lock lose no increment`, async () => {
    const dir = makeTempDir();
    const dbPath = join(dir, 'q.db');
    const counterPath = join(dir, 'counter.txt');
    writeFileSync(counterPath, '0');
    const rounds = ROUNDS[strategy].lock;
    const children = Array.from({ length: PROCESSES }, () =>
      startFixture('lock-counter.mjs', [dbPath, counterPath, strategy, String(rounds), String(STALE_MS)]),
    );
    await startTogether(children, `ready ${strategy}`);
    const started = performance.now();
    await Promise.all(children.map((child) => child.succeeded()));
    const elapsed = performance.now() - started;

    expect(Number(readFileSync(counterPath, 'utf8'))).toBe(PROCESSES * rounds);
    console.log(
      `lock exclusion ${strategy}: ${PROCESSES}×${rounds} increments in ${elapsed.toFixed(0)} ms ` +
        `(${((elapsed * 1000) / (PROCESSES * rounds)).toFixed(0)} µs per hand-over)`,
    );
  });

  it('two handles in one process share one backend and take turns through the process mutex', async () => {
    const dir = makeTempDir();
    const dbPath = join(dir, 'q.db');
    const counterPath = join(dir, 'counter.txt');
    writeFileSync(counterPath, '0');
    const rounds = ROUNDS[strategy].inProcess;
    const first = WriteLock.open(dbPath, { strategy, required: true, staleMs: STALE_MS });
    const second = WriteLock.open(dbPath, { strategy, required: true, staleMs: STALE_MS });
    let inside = 0;
    let maxInside = 0;
    const increment = async (lock: WriteLock): Promise<void> => {
      for (let i = 0; i < rounds; i += 1) {
        await lock.acquire(30_000);
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        const value = Number(readFileSync(counterPath, 'utf8'));
        await new Promise((resolve) => setImmediate(resolve));
        writeFileSync(counterPath, String(value + 1));
        inside -= 1;
        await lock.release();
      }
    };
    try {
      // One backend: one descriptor on the lock file (a second one would be a second OFD owner).
      if (strategy === 'os') expect(lockFileDescriptors(dbPath)).toBe(1);
      await Promise.all([increment(first), increment(second), increment(first)]);
      expect(maxInside).toBe(1);
      expect(Number(readFileSync(counterPath, 'utf8'))).toBe(3 * rounds);

      // Waiters of either handle are served in arrival order.
      await first.acquire(1000);
      const order: string[] = [];
      const queued = (
        [
          ['second', second],
          ['first', first],
          ['second again', second],
        ] as const
      ).map(([name, lock]) =>
        lock.acquire(5000).then(async () => {
          order.push(name);
          await lock.release();
        }),
      );
      await first.release();
      await Promise.all(queued);
      expect(order).toEqual(['second', 'first', 'second again']);

      // The backend lives until its last handle closes, however often another handle is closed.
      first.close();
      first.close();
      await second.acquire(1000);
      await second.release();
      if (strategy === 'os') expect(lockFileDescriptors(dbPath)).toBe(1);
    } finally {
      first.close();
      second.close();
    }
    if (strategy === 'os') expect(lockFileDescriptors(dbPath)).toBe(0);
  });

  it(`${PROCESSES} processes doing read-modify-write transactions through db.write lose no update`, async () => {
    const dir = makeTempDir();
    const dbPath = join(dir, 'q.db');
    const options = { lock: strategy, lockRequired: true, lockStaleMs: STALE_MS };
    const setup = await openDatabase(dbPath, options);
    await setup.write((conn) => conn.prepare("INSERT INTO meta (key, value) VALUES ('counter', '0')").run());
    setup.close();

    const writes = ROUNDS[strategy].db;
    const children = Array.from({ length: PROCESSES }, () =>
      startFixture('db-counter.mjs', [dbPath, String(writes), JSON.stringify(options)]),
    );
    await startTogether(children, `ready ${strategy}`);
    const started = performance.now();
    const reports = await Promise.all(children.map((child) => child.waitForLine(/^done (.*)$/)));
    await Promise.all(children.map((child) => child.succeeded()));
    const elapsed = performance.now() - started;

    const db = await openDatabase(dbPath, options);
    try {
      const row = db.connection.prepare("SELECT value FROM meta WHERE key = 'counter'").get() as { value: string };
      expect(Number(row.value)).toBe(PROCESSES * writes);
    } finally {
      db.close();
    }
    const metrics = reports.map((report) => JSON.parse(report[1]!) as { busyRetries: number; transactions: number });
    // Writers queue on our lock, so SQLite itself is never busy between them.
    expect(metrics.map((m) => m.busyRetries)).toEqual(Array(PROCESSES).fill(0));
    console.log(
      `db.write exclusion ${strategy}: ${PROCESSES}×${writes} transactions in ${elapsed.toFixed(0)} ms, ` +
        `busy retries ${metrics.map((m) => m.busyRetries).join('/')}`,
    );
  });

  it('a SIGKILLed holder does not block the next writer', async () => {
    const dir = makeTempDir();
    const dbPath = join(dir, 'q.db');
    const holder = startFixture('lock-client.mjs', [dbPath, strategy, String(STALE_MS)]);
    const waiter = startFixture('lock-client.mjs', [dbPath, strategy, String(STALE_MS)]);
    await Promise.all([holder.waitForLine(`ready ${strategy}`), waiter.waitForLine(`ready ${strategy}`)]);
    holder.send('acquire 5000');
    await holder.waitForLine(/^acquired \d+$/);
    waiter.send('acquire 20000');
    await waiter.waitForLine('waiting');

    const killedAt = Date.now();
    holder.kill('SIGKILL');
    const outcome = await waiter.waitForLine(/^(acquired|error) (.*)$/);
    expect(outcome[0]).toMatch(/^acquired \d+$/);
    const handOverMs = Number(outcome[2]) - killedAt;
    // Acquired after the kill, not before: the holder really held it until it died.
    expect(handOverMs).toBeGreaterThanOrEqual(0);
    expect((await holder.exited).signal).toBe('SIGKILL');
    console.log(
      `SIGKILL hand-over ${strategy}: ${handOverMs} ms from kill to the waiter holding the lock` +
        (strategy === 'lockfile' ? ` (stale ${STALE_MS} ms)` : ''),
    );
  });
});

describe('lockfile: a holder that lost its lock to staleness', () => {
  it("hands over to this process's next writer, whose lock stays its own and is removed on release", async () => {
    const dir = makeTempDir();
    const dbPath = join(dir, 'q.db');
    const counterPath = join(dir, 'counter.txt');
    writeFileSync(counterPath, '0');
    const first = WriteLock.open(dbPath, { strategy: 'lockfile', required: true, staleMs: STALE_MS });
    const second = WriteLock.open(dbPath, { strategy: 'lockfile', required: true, staleMs: STALE_MS });
    try {
      // A backend's first lock probes mtime precision with a rounded-up (future) mtime; later
      // ones carry the real time, so the thief below finds the lock stale after STALE_MS.
      await first.acquire(1000);
      await first.release();
      const thief = startFixture('lock-counter.mjs', [dbPath, counterPath, 'lockfile', '1', String(STALE_MS)]);
      await thief.waitForLine('ready lockfile');

      await first.acquire(1000);
      const secondHolds = second.acquire(10_000); // queued on the process mutex
      thief.send('go');
      // Freeze this process past `stale` while it holds the lock: the thief declares the lock
      // stale, takes it, increments and releases before we wake up.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALE_MS + 1000);
      expect(() => first.assertHeld()).toThrow(LockLostError);
      // From here to `second` holding the lock nothing yields to the event loop, so the lost
      // lock's overdue refresh timer reports "compromised" only after the new lock was started.
      await first.release();
      await secondHolds;
      await stat(dir); // one more thread-pool round trip: the late report has arrived by now
      expect(() => second.assertHeld()).not.toThrow();
      await second.release();
      expect(existsSync(`${dbPath}.lock`)).toBe(false);

      await thief.succeeded();
      expect(readFileSync(counterPath, 'utf8')).toBe('1');
    } finally {
      first.close();
      second.close();
    }
  });
});

describe('falling back when the OS lock is unavailable', () => {
  const ADDON_VARIABLE = 'TASKLOCK_OS_LOCK_ADDON';
  let savedAddon: string | undefined;

  afterEach(() => {
    if (savedAddon === undefined) delete process.env[ADDON_VARIABLE];
    else process.env[ADDON_VARIABLE] = savedAddon;
  });

  const cases: Array<{ name: string; reason: RegExp; prepare: (dbPath: string) => void }> = [
    {
      name: 'the addon cannot be loaded',
      reason: /OS lock addon \(.*no-such-addon\.cjs\) failed to load/,
      prepare: () => {
        process.env[ADDON_VARIABLE] = fixturePath('no-such-addon.cjs');
      },
    },
    {
      name: 'the filesystem refuses locks (ENOLCK)',
      reason: /refuses OS locks .*ENOLCK/,
      prepare: () => {
        process.env[ADDON_VARIABLE] = fixturePath('enolck-addon.cjs');
      },
    },
    {
      name: 'the lock file cannot be opened (a directory is in its place)',
      reason: /cannot open lock file .*q\.db\.lock: EISDIR/,
      prepare: (dbPath) => mkdirSync(`${dbPath}.lock`),
    },
  ];

  for (const { name, reason, prepare } of cases) {
    it(`${name}: auto falls back to lockfile with exactly one warning`, () => {
      savedAddon = process.env[ADDON_VARIABLE];
      const dbPath = join(makeTempDir(), 'q.db');
      prepare(dbPath);
      const warnings: string[] = [];
      const lock = WriteLock.open(dbPath, { strategy: 'auto', onWarning: (message) => warnings.push(message) });
      try {
        expect(lock.strategy).toBe<LockStrategy>('lockfile');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/lock strategy os unavailable/);
        expect(warnings[0]).toMatch(reason);
        expect(warnings[0]).toMatch(/using lockfile$/);
        expect(lock.fallbackReasons).toHaveLength(1);
      } finally {
        lock.close();
      }
    });

    it(`${name}: required refuses with LockUnavailableError and no warning`, () => {
      savedAddon = process.env[ADDON_VARIABLE];
      const dbPath = join(makeTempDir(), 'q.db');
      prepare(dbPath);
      const warnings: string[] = [];
      let caught: unknown;
      try {
        WriteLock.open(dbPath, { strategy: 'auto', required: true, onWarning: (message) => warnings.push(message) }).close();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LockUnavailableError);
      expect(caught).toMatchObject({ code: 'lock-unavailable' });
      expect((caught as Error).message).toMatch(reason);
      expect(warnings).toEqual([]);
    });

    it(`${name}: an explicit --lock os never falls back`, () => {
      savedAddon = process.env[ADDON_VARIABLE];
      const dbPath = join(makeTempDir(), 'q.db');
      prepare(dbPath);
      const warnings: string[] = [];
      expect(() => WriteLock.open(dbPath, { strategy: 'os', onWarning: (message) => warnings.push(message) })).toThrow(LockUnavailableError);
      expect(warnings).toEqual([]);
    });
  }

  it('an explicit lockfile where the OS lock file lives is refused, not run unlocked', () => {
    const dbPath = join(makeTempDir(), 'q.db');
    writeFileSync(`${dbPath}.lock`, '');
    expect(() => WriteLock.open(dbPath, { strategy: 'lockfile' })).toThrow(/a mkdir lock cannot live there/);
  });
});
