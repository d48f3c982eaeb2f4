import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

/** 4 processes × `iterations` holds of the lock, each with an event-loop yield inside. */
async function run(strategy: string, iterations: number) {
  const dir = makeTempDir();
  const audit = join(dir, 'audit');
  const counter = join(dir, 'counter');
  writeFileSync(counter, '0');
  const children = Array.from({ length: 4 }, () =>
    startFixture('lock-counter.mjs', [join(dir, 'q.db'), counter, strategy, String(iterations)], {
      env: { TASKLOCK_LOCK_AUDIT: audit },
    }),
  );
  await Promise.all(children.map((c) => c.waitForLine(/^ready /)));
  for (const child of children) child.send('go');
  await Promise.all(children.map((c) => c.succeeded()));
  const violations = existsSync(`${audit}.violations`) ? readFileSync(`${audit}.violations`, 'utf8').split('\n').filter(Boolean) : [];
  return { violations, count: Number(readFileSync(counter, 'utf8')) };
}

describe('TASKLOCK_LOCK_AUDIT (the stress harness’s in-lock overlap check)', () => {
  it('finds no overlap under the OS lock', async () => {
    const { violations, count } = await run('os', 200);
    expect(violations).toEqual([]);
    expect(count).toBe(800);
  });

  it('does report overlaps when nothing excludes (strategy none), so it can fail', async () => {
    const { violations, count } = await run('none', 200);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(/pid \d+: (entered while|left the lock)/);
    expect(count).toBeLessThan(800);
  });

  it('takes over the marker of a holder SIGKILLed inside the lock without calling it an overlap', async () => {
    const dir = makeTempDir();
    const audit = join(dir, 'audit');
    const db = join(dir, 'q.db');
    const env = { TASKLOCK_LOCK_AUDIT: audit };
    const holder = startFixture('lock-client.mjs', [db, 'os'], { env });
    await holder.waitForLine(/^ready /);
    holder.send('acquire 5000');
    await holder.waitForLine(/^acquired /);
    expect(readFileSync(audit, 'utf8')).toMatch(new RegExp(`^${holder.pid}:`));
    holder.kill('SIGKILL');
    await holder.exited;
    const next = startFixture('lock-client.mjs', [db, 'os'], { env });
    await next.waitForLine(/^ready /);
    next.send('acquire 5000');
    await next.waitForLine(/^acquired /);
    next.send('release');
    await next.waitForLine('released');
    expect(existsSync(`${audit}.violations`)).toBe(false);
    expect(readFileSync(audit, 'utf8')).toBe('');
  });

  it('lockfile: waiters take over a SIGKILLed holder’s stale lock one at a time, losing no increment', async () => {
    const dir = makeTempDir();
    const audit = join(dir, 'audit');
    const db = join(dir, 'q.db');
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    const env = { TASKLOCK_LOCK_AUDIT: audit };
    const holder = startFixture('lock-client.mjs', [db, 'lockfile', '2000'], { env });
    await holder.waitForLine(/^ready /);
    holder.send('acquire 5000');
    await holder.waitForLine(/^acquired /);
    holder.kill('SIGKILL');
    await holder.exited;
    // All four see the dead holder's directory go stale at about the same moment.
    const waiters = Array.from({ length: 4 }, () => startFixture('lock-counter.mjs', [db, counter, 'lockfile', '25', '2000'], { env }));
    await Promise.all(waiters.map((w) => w.waitForLine(/^ready /)));
    for (const waiter of waiters) waiter.send('go');
    await Promise.all(waiters.map((w) => w.succeeded()));
    const violations = existsSync(`${audit}.violations`) ? readFileSync(`${audit}.violations`, 'utf8') : '';
    expect(violations).toBe('');
    expect(Number(readFileSync(counter, 'utf8'))).toBe(100);
  });
});
