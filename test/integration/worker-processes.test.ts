import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { killAllFixtures, startFixture } from '../utils/fixture-process.js';
import { replayStatus, sqliteOf } from '../utils/lifecycle.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
});

function effectsOf(file: string): { id: number; attempt: number; pid: number }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, attempt, pid] = line.split(' ').map(Number);
      return { id: id!, attempt: attempt!, pid: pid! };
    });
}

describe('worker processes on one database', () => {
  it('4 processes drain 10k tasks: each succeeds exactly once, no double claim, events replay', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'q.db');
    const effects = join(dir, 'effects.log');
    const queue = await Queue.open(db, { sqlite: { synchronous: 'NORMAL' } });
    try {
      const items = Array.from({ length: 10_000 }, (_, i) => ({ type: 'n', payload: i }));
      for (let i = 0; i < items.length; i += 2500) await queue.enqueueMany(items.slice(i, i + 2500));
      const workers = Array.from({ length: 4 }, () =>
        startFixture('queue-worker.mjs', [JSON.stringify({ db, effects, concurrency: 16, untilEmpty: true })]),
      );
      await Promise.all(workers.map((w) => w.succeeded()));
      const perWorker = workers.map((w) => JSON.parse(w.lines.find((l) => l.startsWith('stats '))!.slice(6)).succeeded as number);
      expect(perWorker.reduce((a, b) => a + b, 0)).toBe(10_000);

      const conn = sqliteOf(queue).connection;
      expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(conn.pragma('foreign_key_check')).toEqual([]);
      expect((await queue.stats()).counts).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: 10_000, failed: 0, cancelled: 0 });
      expect(conn.prepare('SELECT count(*) AS n FROM task_runs').get()).toEqual({ n: 10_000 });
      expect(conn.prepare("SELECT count(*) AS n FROM tasks WHERE attempts != 1").get()).toEqual({ n: 0 });
      const executions = effectsOf(effects);
      expect(executions).toHaveLength(10_000);
      expect(new Set(executions.map((e) => e.id)).size).toBe(10_000);
      // Replay every task's log to its final status.
      const mismatched = [];
      for (const task of await queue.list({ limit: 10_000 })) if ((await replayStatus(queue, task.id)) !== task.status) mismatched.push(task.id);
      expect(mismatched).toEqual([]);
      console.log(`4 workers drained 10k tasks; per worker: ${perWorker.join(', ')}`);
    } finally {
      queue.close();
    }
  });

  it('a SIGKILLed worker: its tasks are reclaimed at once (dead owner) and finish; its late completions are refused', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'q.db');
    const effects = join(dir, 'effects.log');
    const queue = await Queue.open(db, { sqlite: { synchronous: 'NORMAL' } });
    try {
      await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'n', payload: i })));
      const victim = startFixture('queue-worker.mjs', [JSON.stringify({ db, effects, concurrency: 5, hold: 5, leaseMs: 600_000 })]);
      const [, victimId] = (await victim.waitForLine(/^holding 5 as (.+)$/))!;
      expect((await queue.stats()).counts.running).toBe(5);
      const staleLeases = sqliteOf(queue).connection.prepare('SELECT task_id AS id, lease_token AS leaseToken FROM task_runs').all() as { id: number; leaseToken: string }[];
      victim.kill('SIGKILL');
      await victim.exited;

      const rescuer = startFixture('queue-worker.mjs', [JSON.stringify({ db, effects, concurrency: 5, untilEmpty: true })]);
      await rescuer.succeeded();
      expect((await queue.stats()).counts).toMatchObject({ succeeded: 5, running: 0, pending: 0 });
      for (const task of await queue.list()) {
        expect((await queue.runs(task.id)).map((r) => r.outcome)).toEqual(['reclaimed', 'succeeded']);
        const expire = (await queue.events(task.id)).find((e) => e.transition === 'reclaim');
        expect(expire?.detail).toContain(`worker process is gone (worker ${victimId}`);
      }
      for (const lease of staleLeases) {
        await expect(queue.complete(lease, 'late')).rejects.toMatchObject({ code: 'lease-lost', taskId: lease.id });
      }
      expect((await queue.workers()).find((w) => w.id === victimId)).toMatchObject({ stopped_at: null, crashed_by: expect.any(String), alive: false });
      expect((await queue.workers()).find((w) => w.id === victimId)?.crashed_at).not.toBeNull();
      expect(effectsOf(effects)).toHaveLength(10);
    } finally {
      queue.close();
    }
  });

  it('a SIGKILLed worker on another host with no silence bound (a worker of schema < 7): its tasks come back when the lease expires', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'q.db');
    const queue = await Queue.open(db, { sqlite: { synchronous: 'NORMAL' } });
    try {
      await queue.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ type: 'n', payload: i })));
      const victim = startFixture('queue-worker.mjs', [JSON.stringify({ db, concurrency: 3, hold: 3, leaseMs: 1500 })]);
      const [, victimId] = (await victim.waitForLine(/^holding 3 as (.+)$/))!;
      victim.kill('SIGKILL');
      await victim.exited;
      // Pretend it ran elsewhere, as an older version: this host cannot check its pid, and with no
      // silence bound of its own (hosts.test.ts tests the bound) only its lease tells.
      await sqliteOf(queue).write((c) => c.prepare("UPDATE workers SET host = 'elsewhere', dead_after_ms = NULL WHERE id = ?").run(victimId));
      expect((await queue.reclaim()).deadOwner).toBe(0);

      const rescuer = startFixture('queue-worker.mjs', [JSON.stringify({ db, concurrency: 3, untilEmpty: true, reclaimEveryMs: 100 })]);
      await rescuer.succeeded();
      expect((await queue.stats()).counts).toMatchObject({ succeeded: 3, running: 0 });
      for (const task of await queue.list()) {
        expect((await queue.events(task.id)).find((e) => e.transition === 'reclaim')?.detail).toMatch(/lease expired/);
      }
    } finally {
      queue.close();
    }
  });
});
