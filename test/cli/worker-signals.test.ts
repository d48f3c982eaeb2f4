import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli, cliFixture, cliJson, enqueue, initDb, isGone, killAllWorkers, show, startWorker } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllWorkers();
  removeTempDirs();
});

const SLEEP_COMMAND = 'echo $$ > "$PIDDIR/command.pid"; exec sleep 30';

async function waitUntilRunning(db: string, id: number): Promise<void> {
  await vi.waitFor(async () => expect((await show(db, id)).task.status).toBe('running'), { timeout: 15_000, interval: 100 });
}

async function commandPid(dir: string): Promise<number> {
  let pid = 0;
  await vi.waitFor(() => {
    pid = Number(readFileSync(join(dir, 'command.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
  }, { timeout: 10_000, interval: 50 });
  return pid;
}

describe('worker signals', () => {
  it('SIGTERM: stops claiming, hands the running task back (release) after the grace period, exits 0', async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy');
    const worker = startWorker(db, ['--exec', SLEEP_COMMAND, '--grace', '300'], { env: { PIDDIR: dir } });
    await waitUntilRunning(db, id);
    const pid = await commandPid(dir);
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/^worker \S+: 1 claimed, 0 succeeded, 0 failed, 0 retried, 1 released/);
    expect(exit.stderr).toContain('SIGTERM: stopping');
    const shown = await show(db, id);
    expect(shown.task).toMatchObject({ status: 'pending', attempts: 1 });
    expect(shown.events.at(-1)).toMatchObject({ transition: 'release', from: 'running', to: 'pending' });
    expect(shown.runs.map((r) => r.outcome)).toEqual(['released']);
    await vi.waitFor(() => expect(isGone(pid)).toBe(true), { timeout: 5000, interval: 50 });
  });

  it('handed-back attempts do not use up --max-attempts: released twice, the one attempt allowed is still there', async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy', null, ['--max-attempts', '1']);
    for (const round of [1, 2]) {
      const worker = startWorker(db, ['--exec', SLEEP_COMMAND, '--grace', '0'], { env: { PIDDIR: dir } });
      await waitUntilRunning(db, id);
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
      expect((await show(db, id)).task).toMatchObject({ status: 'pending', attempts: round, maxAttempts: 1, releasedAttempts: round });
    }
    const human = await cli(['--db', db, 'show', String(id)]);
    expect(human.stdout).toMatch(/^attempts\s+0 of 1 \(\+2 released, not counted\)$/m);
    expect(human.stdout.match(/released \(not counted\)/g)).toHaveLength(2);
    const last = await cli(['--db', db, 'worker', '--exec', 'exit 3', '--until-empty']);
    expect(last.code, last.stderr).toBe(0);
    expect((await show(db, id)).task).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 1, releasedAttempts: 2 });
  });

  it('SIGTERM: a task that finishes within the grace period completes normally', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'short');
    const worker = startWorker(db, ['--exec', 'sleep 1; echo done', '--grace', '20000']);
    await waitUntilRunning(db, id);
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect((await show(db, id)).task).toMatchObject({ status: 'succeeded', result: 'done' });
  });

  it('a second signal exits at once (143 for SIGTERM), killing running commands', async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy');
    const worker = startWorker(db, ['--exec', SLEEP_COMMAND, '--grace', '60000'], { env: { PIDDIR: dir } });
    await waitUntilRunning(db, id);
    const pid = await commandPid(dir);
    worker.child.kill('SIGTERM');
    await vi.waitFor(() => expect(worker.log()).toContain('SIGTERM: stopping'), { timeout: 5000, interval: 20 });
    const started = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code).toBe(143);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(exit.stderr).toMatch(/ warn SIGTERM again: exiting now/);
    await vi.waitFor(() => expect(isGone(pid)).toBe(true), { timeout: 5000, interval: 50 });
  });

  it('SIGKILL: another worker reclaims the task at once (dead owner), long before the lease ends', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'slow-first');
    const handler = cliFixture('slow-first-attempt.mjs');
    const victim = startWorker(db, ['--handler', handler, '--lease', '60000', '--worker-id', 'victim']);
    await waitUntilRunning(db, id);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const started = Date.now();
    const rescuer = await cli(['--db', db, 'worker', '--handler', handler, '--until-empty', '--worker-id', 'rescuer']);
    expect(rescuer.code, rescuer.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(rescuer.stderr).toContain('of dead worker(s) victim');
    const shown = await show(db, id);
    expect(shown.task).toMatchObject({ status: 'succeeded', attempts: 2, result: { attempt: 2 } });
    expect(shown.runs.map((r) => [r.workerId, r.outcome])).toEqual([['victim', 'reclaimed'], ['rescuer', 'succeeded']]);
    const expire = shown.events.find((e) => e.transition === 'reclaim');
    expect(expire).toMatchObject({ workerId: 'victim', to: 'pending' });
    expect(expire!.detail).toContain('worker process is gone');
    // Found dead, not stopped: the row says when and by whom.
    const { workers } = await cliJson<{ workers: { id: string; state: string; stoppedAt: string | null; crashedAt: string | null; crashedBy: string | null }[] }>(db, ['workers', '--all']);
    expect(workers.find((w) => w.id === 'victim')).toMatchObject({ state: 'crashed', stoppedAt: null, crashedBy: 'rescuer' });
    expect(workers.find((w) => w.id === 'victim')?.crashedAt).not.toBeNull();
  });
});

describe('several workers on one database', () => {
  it('drain every task, each executed and succeeded exactly once', async () => {
    const { dir, db } = await initDb();
    const count = 300;
    const input = Array.from({ length: count }, (_, n) => JSON.stringify({ type: 'n', payload: n })).join('\n');
    await cliJson(db, ['enqueue', '--file', '-'], { input });
    const effects = join(dir, 'effects.log');
    const workers = Array.from({ length: 3 }, (_, i) =>
      startWorker(db, ['--json', '--handler', cliFixture('record-handler.mjs'), '--concurrency', '4', '--until-empty', '--worker-id', `w${i}`], {
        env: { EFFECTS: effects },
      }),
    );
    const exits = await Promise.all(workers.map((w) => w.exited));
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
    const summaries = exits.map((exit) => JSON.parse(exit.stdout) as { worker: string; stats: { succeeded: number }; writes: { transactions: number; lockWaitMs: { p99: number } } });
    expect(summaries.map((s) => s.worker)).toEqual(['w0', 'w1', 'w2']);
    for (const summary of summaries) expect(summary.writes.transactions).toBeGreaterThan(0);
    const succeeded = summaries.map((summary) => summary.stats.succeeded);
    expect(succeeded.reduce((a, b) => a + b, 0)).toBe(count);

    const { tasks } = await cliJson<{ tasks: { id: number; status: string; attempts: number }[] }>(db, ['list', '--limit', '1000']);
    expect(tasks).toHaveLength(count);
    expect(tasks.filter((t) => t.status !== 'succeeded' || t.attempts !== 1)).toEqual([]);
    const executed = readFileSync(effects, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));
    expect(executed).toHaveLength(count);
    expect(new Set(executed).size).toBe(count);
    const stats = await cliJson<{ counts: Record<string, number> }>(db, ['stats']);
    expect(stats.counts).toEqual({ pending: 0, scheduled: 0, running: 0, succeeded: count, failed: 0, cancelled: 0 });
  });
});
