import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Queue, type EnqueueItem } from '@tasklock/core';
import { cli, cliFixture, killAllWorkers, startWorker } from '../utils/cli.js';
import { Database, type RawConnection } from '../utils/core-deps.js';
import { sqliteOf } from '../utils/lifecycle.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllWorkers();
  removeTempDirs();
});

const TASKS = 4000;

/** Every 10th task fails once, is retried after 5 ms, fails again and ends failed. */
function items(count: number, type: string): EnqueueItem[] {
  return Array.from({ length: count }, (_, i) =>
    i % 10 === 0
      ? { type, payload: { n: i, fail: true }, maxAttempts: 2, backoff: { baseMs: 5, factor: 1, maxMs: 5 } }
      : { type, payload: { n: i } },
  );
}

function count(conn: RawConnection, sql: string): number {
  return (conn.prepare(sql).get() as { n: number }).n;
}

/** The ids of the tasks of `conn` that break a rule stated as a WHERE clause on `tasks t`. */
function breaking(conn: RawConnection, where: string): number[] {
  return (conn.prepare(`SELECT id FROM tasks t WHERE ${where} ORDER BY id`).all() as { id: number }[]).map((row) => row.id);
}

describe('tasklock backup while 4 worker processes drain the queue', () => {
  it('the copy opens, passes integrity_check and is one consistent snapshot: counts and per-task invariants hold inside it', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'q.db');
    const dest = join(dir, 'q.bak');
    const queue = await Queue.open(db, { sqlite: { synchronous: 'NORMAL' } });
    try {
      for (let i = 0; i < TASKS; i += 1000) await queue.enqueueMany(items(1000, 'n'));
      const workers = Array.from({ length: 4 }, () =>
        startWorker(db, ['--handler', cliFixture('sleep-handler.mjs'), '--concurrency', '4', '--until-empty'], { env: { SLEEP_MS: '3' } }),
      );
      const succeeded = () => count(sqliteOf(queue).connection, "SELECT count(*) AS n FROM tasks WHERE status = 'succeeded'");
      await vi.waitFor(() => expect(succeeded()).toBeGreaterThanOrEqual(400), { timeout: 30_000, interval: 20 });

      // More tasks arrive while the backup runs: the copy holds a prefix of them, whichever.
      const before = count(sqliteOf(queue).connection, 'SELECT count(*) AS n FROM tasks');
      let done = false;
      const backup = cli(['--db', db, '--json', 'backup', dest]).finally(() => {
        done = true;
      });
      let late = 0;
      while (!done) {
        await queue.enqueueMany(items(5, 'late'));
        late += 5;
        await sleep(10); // pacing the load, not waiting for anything
      }
      const after = before + late;
      const result = await backup;
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { path: string; pages: number; bytes: number; integrity: string };
      expect(report).toMatchObject({ path: dest, integrity: 'ok' });
      expect(report.bytes).toBe(report.pages * 4096);

      const exits = await Promise.all(workers.map((w) => w.exited));
      expect(exits.map((e) => e.code), exits.map((e) => e.stderr).join('\n')).toEqual([0, 0, 0, 0]);
      const live = (await queue.stats()).counts;
      expect(live.succeeded + live.failed).toBe(after);

      const copy = new Database(dest, { readonly: true, fileMustExist: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(copy.pragma('foreign_key_check')).toEqual([]);
        const total = count(copy, 'SELECT count(*) AS n FROM tasks');
        expect(total).toBeGreaterThanOrEqual(before);
        expect(total).toBeLessThanOrEqual(after);
        // Nothing is deleted here and ids are given in order: a snapshot holds ids 1..total.
        expect(count(copy, 'SELECT max(id) AS n FROM tasks')).toBe(total);
        const byStatus = copy.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as { status: string; n: number }[];
        const counts = Object.fromEntries(byStatus.map((row) => [row.status, row.n]));
        expect(byStatus.reduce((sum, row) => sum + row.n, 0)).toBe(total);
        // Taken mid-drain: some work done, some not yet.
        expect(counts.succeeded ?? 0).toBeGreaterThanOrEqual(400);
        expect((counts.pending ?? 0) + (counts.running ?? 0)).toBeGreaterThan(0);
        expect(counts.succeeded).toBeLessThan(live.succeeded);

        expect(breaking(copy, 'attempts != (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id)')).toEqual([]);
        expect(breaking(copy, "attempts != (SELECT count(*) FROM task_event_log e WHERE e.task_id = t.id AND e.transition = 'claim')")).toEqual([]);
        expect(breaking(copy, "(SELECT count(*) FROM task_event_log e WHERE e.task_id = t.id AND e.transition = 'enqueue') != 1")).toEqual([]);
        expect(
          breaking(copy, "status = 'succeeded' AND (SELECT count(*) FROM task_event_log e WHERE e.task_id = t.id AND e.transition = 'complete') != 1"),
        ).toEqual([]);
        expect(breaking(copy, "status != 'succeeded' AND EXISTS (SELECT 1 FROM task_event_log e WHERE e.task_id = t.id AND e.transition = 'complete')")).toEqual([]);
        expect(breaking(copy, "status = 'failed' AND attempts < max_attempts")).toEqual([]);
        // The event log replays to the status the row holds.
        expect(breaking(copy, 'status != (SELECT to_status FROM task_event_log e WHERE e.task_id = t.id ORDER BY e.attempt DESC, e.rank DESC, e.id DESC LIMIT 1)')).toEqual([]);
        // A running task has a lease, an open run for its current attempt with that lease, and a registered worker.
        expect(
          breaking(
            copy,
            `status = 'running' AND (lease_token IS NULL OR lease_expires_at IS NULL OR locked_by IS NULL
               OR NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.attempt = t.attempts
                                AND r.outcome = 'running' AND r.lease_token = t.lease_token)
               OR NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = t.locked_by))`,
          ),
        ).toEqual([]);
        expect(breaking(copy, "status != 'running' AND EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.outcome = 'running')")).toEqual([]);
        console.log(
          `backup of ${report.pages} pages mid-drain: ${total} tasks in the copy (${before}…${after} enqueued around it), ` +
            `${JSON.stringify(counts)}; live at the end: ${live.succeeded} succeeded, ${live.failed} failed`,
        );
      } finally {
        copy.close();
      }
    } finally {
      queue.close();
    }
  });
});
