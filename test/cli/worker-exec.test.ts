import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli, cliFixture, cliJson, enqueue, initDb, isGone, killAllWorkers, show, startWorker } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllWorkers();
  removeTempDirs();
});

/** A command that starts a child of its own; both write their pids to $PIDDIR, then wait. */
const SLEEP_COMMAND = `echo $$ > "$PIDDIR/outer.pid"; sh -c 'echo $$ > "$PIDDIR/inner.pid"; exec sleep 30'`;

function pidsIn(dir: string): number[] {
  return ['outer.pid', 'inner.pid'].map((name) => Number(readFileSync(join(dir, name), 'utf8')));
}

async function waitForPids(dir: string): Promise<number[]> {
  await vi.waitFor(() => expect(pidsIn(dir).every((pid) => pid > 0)).toBe(true), { timeout: 10_000, interval: 50 });
  return pidsIn(dir);
}

async function expectAllGone(pids: readonly number[]): Promise<void> {
  await vi.waitFor(() => expect(pids.filter((pid) => !isGone(pid))).toEqual([]), { timeout: 10_000, interval: 50 });
}

describe('worker --exec', () => {
  it('exit 0: stdout is the result, JSON if it parses; payload on stdin, task details in the environment', async () => {
    const { db } = await initDb();
    const json = await enqueue(db, 'echo', { a: [1, 2] });
    const env = await enqueue(db, 'env');
    const text = await enqueue(db, 'text');
    const command = [
      'case "$TASKLOCK_TASK_TYPE" in',
      '  echo) cat ;;',
      '  env) printf \'{"id":"%s","type":"%s","attempt":"%s","db":"%s"}\' "$TASKLOCK_TASK_ID" "$TASKLOCK_TASK_TYPE" "$TASKLOCK_ATTEMPT" "$TASKLOCK_DB" ;;',
      '  *) echo "plain words" ;;',
      'esac',
    ].join('\n');
    const run = await cli(['--db', db, '--json', 'worker', '--exec', command, '--until-empty', '--worker-id', 'w-exec']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      worker: 'w-exec',
      stats: expect.objectContaining({ claimed: 3, succeeded: 3, failed: 0 }),
      writes: expect.objectContaining({ busyRetries: 0, failures: 0, lockWaitMs: expect.objectContaining({ p99: expect.any(Number) }) }),
    });
    expect((await show(db, json)).task).toMatchObject({ status: 'succeeded', result: { a: [1, 2] } });
    expect((await show(db, env)).task.result).toEqual({ id: String(env), type: 'env', attempt: '1', db });
    expect((await show(db, text)).task.result).toBe('plain words');
  });

  it('non-zero exit: the attempt fails with the end of stderr, and is retried until attempts run out', async () => {
    const { db } = await initDb();
    await cliJson(db, ['enqueue', '--file', '-'], { input: '{"type":"bad","maxAttempts":2,"backoff":{"baseMs":10}}\n' });
    const run = await cli(['--db', db, 'worker', '--exec', 'echo "line one" >&2; echo "it broke" >&2; exit 3', '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/0 succeeded, 1 failed, 1 retried/);
    const { task, runs } = await show(db, 1);
    expect(task).toMatchObject({ status: 'failed', attempts: 2, lastError: 'command exited with code 3: line one\nit broke' });
    expect(runs.map((r) => r.outcome)).toEqual(['retry', 'failed']);
    // Each failed attempt is logged at the default level, in one line.
    expect(run.stderr).toMatch(/ warn task 1 \(bad\) attempt 1 failed, will retry: command exited with code 3: line one\n/);
    expect(run.stderr).toMatch(/ error task 1 \(bad\) attempt 2 failed for good: command exited with code 3: line one\n/);
  });

  it('--timeout kills the command and everything it started (its process group)', async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy', null, ['--max-attempts', '1']);
    const started = Date.now();
    const run = await cli(['--db', db, 'worker', '--exec', SLEEP_COMMAND, '--timeout', '500', '--until-empty'], { env: { PIDDIR: dir } });
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await show(db, id)).task).toMatchObject({ status: 'failed', lastError: 'timed out after 500 ms (worker --timeout)' });
    await expectAllGone(pidsIn(dir));
  });

  it("a task's own timeout (enqueue --timeout) wins over the worker's default", async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy', null, ['--max-attempts', '1', '--timeout', '300']);
    const run = await cli(['--db', db, 'worker', '--exec', SLEEP_COMMAND, '--timeout', '20000', '--until-empty'], { env: { PIDDIR: dir } });
    expect(run.code, run.stderr).toBe(0);
    expect((await show(db, id)).task).toMatchObject({ status: 'failed', lastError: 'timed out after 300 ms' });
    await expectAllGone(pidsIn(dir));
  });

  it('cancelling a running task kills its command', async () => {
    const { dir, db } = await initDb();
    const id = await enqueue(db, 'sleepy');
    const worker = startWorker(db, ['--exec', SLEEP_COMMAND, '--lease', '1000'], { env: { PIDDIR: dir } });
    await vi.waitFor(async () => expect((await show(db, id)).task.status).toBe('running'), { timeout: 15_000, interval: 100 });
    const pids = await waitForPids(dir);
    const cancel = await cli(['--db', db, 'cancel', String(id)]);
    expect(cancel.code, cancel.stderr).toBe(0);
    // The worker learns at its next heartbeat (lease / 3) and kills the process group.
    await expectAllGone(pids);
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain(`task ${id}: task was cancelled; aborting its handler`);
    const shown = await show(db, id);
    expect(shown.task.status).toBe('cancelled');
    expect(shown.runs.map((r) => r.outcome)).toEqual(['cancelled']);
  });
});

describe('worker --handler', () => {
  it('runs the module default export with payload and context; --until-empty exits 0 once drained', async () => {
    const { db } = await initDb();
    const ids = (await cliJson<{ ids: number[] }>(db, ['enqueue', '--file', '-'], { input: '{"type":"a","payload":1}\n{"type":"a","payload":2}\n' })).ids;
    const run = await cli(['--db', db, '--json', 'worker', '--handler', cliFixture('echo-handler.mjs'), '--until-empty', '--concurrency', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stats).toMatchObject({ claimed: 2, succeeded: 2 });
    expect((await show(db, ids[1]!)).task.result).toEqual({ payload: 2, id: ids[1], attempt: 1, type: 'a' });
  });

  it('a path relative to the working directory', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'a', 'x');
    const run = await cli(['--db', db, 'worker', '--handler', 'cli/echo-handler.mjs', '--until-empty'], { cwd: cliFixture('..') });
    expect(run.code, run.stderr).toBe(0);
    expect((await show(db, id)).task.result).toMatchObject({ payload: 'x' });
  });

  it('a result the queue cannot store fails that attempt and does not hold up the others', async () => {
    const { db } = await initDb();
    const big = await enqueue(db, 'r', 'big', ['--max-attempts', '1']);
    const small = await enqueue(db, 'r', 'small');
    const bigint = await enqueue(db, 'r', 'bigint', ['--max-attempts', '1']);
    const run = await cli(['--db', db, 'worker', '--handler', cliFixture('big-result-handler.mjs'), '--concurrency', '3', '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    expect((await show(db, big)).task).toMatchObject({ status: 'failed', lastError: 'result is 2097154 bytes, over the 1048576-byte limit' });
    expect((await show(db, small)).task).toMatchObject({ status: 'succeeded', result: 'small' });
    expect((await show(db, bigint)).task.lastError).toMatch(/^result is not JSON-serialisable/);
  });

  it('--types, --queue and --max-tasks choose what a worker takes', async () => {
    const { db } = await initDb();
    const lines = [
      { type: 'a', payload: 1 },
      { type: 'b', payload: 2 },
      { type: 'a', payload: 3, queue: 'other' },
      { type: 'a', payload: 4 },
    ];
    await cliJson(db, ['enqueue', '--file', '-'], { input: lines.map((l) => JSON.stringify(l)).join('\n') });
    const handler = cliFixture('echo-handler.mjs');
    expect((await cli(['--db', db, 'worker', '--handler', handler, '--types', 'a', '--max-tasks', '1'])).code).toBe(0);
    const status = async () => (await cliJson<{ tasks: { status: string }[] }>(db, ['list'])).tasks.map((t) => t.status);
    expect(await status()).toEqual(['succeeded', 'pending', 'pending', 'pending']);
    expect((await cli(['--db', db, 'worker', '--handler', handler, '--types', 'a', '--until-empty'])).code).toBe(0);
    expect(await status()).toEqual(['succeeded', 'pending', 'pending', 'succeeded']);
    expect((await cli(['--db', db, 'worker', '--handler', handler, '--queue', 'other', '--until-empty'])).code).toBe(0);
    expect(await status()).toEqual(['succeeded', 'pending', 'succeeded', 'succeeded']);
  });
});

