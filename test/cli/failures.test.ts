import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ERROR_BYTES, Queue } from '@tasklock/core';
import { cli, cliFixture, initDb, show } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

/**
 * Point 3: a failed attempt is stored in full (class, every line, stack; bounded), logged in one
 * line at the default level, and `show` prints it whole.
 */
afterEach(() => removeTempDirs());

const HANDLER = cliFixture('throwing-handler.mjs');

async function enqueueAll(db: string, items: Parameters<Queue['enqueueMany']>[0]): Promise<void> {
  const queue = await Queue.open(db);
  try {
    await queue.enqueueMany(items);
  } finally {
    queue.close();
  }
}

describe('failures in full', () => {
  it('new TypeError("multi\\nline error"): class, both lines and the stack are stored, for the task and the run', async () => {
    const { db } = await initDb();
    await enqueueAll(db, [{ type: 'boom', payload: { kind: 'multiline' }, maxAttempts: 1 }]);
    const run = await cli(['--db', db, 'worker', '--handler', HANDLER, '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    const { task, runs, events } = await show(db, 1);
    expect(task.status).toBe('failed');
    expect(task.lastError).toMatch(/^TypeError: multi\nline error\n {4}at throwing \(file:\/\/\/.*throwing-handler\.mjs:\d+:\d+\)/);
    expect(runs[0]!.error).toBe(task.lastError);
    // The transition log keeps one line per event.
    expect(events.find((event) => event.transition === 'fail')?.detail).toBe('TypeError: multi');
  });

  it('a 100 KiB message is stored in at most 8 KiB, cut where it says so, and keeps its class, first line and frames', async () => {
    const { db } = await initDb();
    await enqueueAll(db, [{ type: 'boom', payload: { kind: 'huge', bytes: 100 * 1024 }, maxAttempts: 1 }]);
    const run = await cli(['--db', db, 'worker', '--handler', HANDLER, '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    const stored = (await show(db, 1)).task.lastError!;
    expect(MAX_ERROR_BYTES).toBe(8192);
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(Buffer.byteLength(stored)).toBeGreaterThan(MAX_ERROR_BYTES - 100);
    expect(stored).toMatch(/^RangeError: huge message follows\nxxxx/);
    expect(stored).toMatch(/\n… \[truncated \d+ bytes\]\n {4}at throwing \(file:\/\/\/.*throwing-handler\.mjs:\d+:\d+\)/);
  });

  it('the worker logs every failed attempt at the default level, one line each: task id, type, attempt, first line', async () => {
    const { db } = await initDb();
    await enqueueAll(db, [
      { type: 'boom', payload: { kind: 'multiline' }, maxAttempts: 2, backoff: { baseMs: 1 } },
      { type: 'fine', payload: null },
    ]);
    // Whether --until-empty waits for a retry in backoff is not this test's business: run the
    // worker again (at most three times) until the task has failed for good.
    let stderr = '';
    for (let runs = 0; runs < 3 && (await show(db, 1)).task.status !== 'failed'; runs += 1) {
      const run = await cli(['--db', db, 'worker', '--handler', HANDLER, '--until-empty']);
      expect(run.code, run.stderr).toBe(0);
      stderr += run.stderr;
    }
    const failures = stderr.split('\n').filter((line) => line.includes(' failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/^\S+Z warn task 1 \(boom\) attempt 1 failed, will retry: TypeError: multi$/);
    expect(failures[1]).toMatch(/^\S+Z error task 1 \(boom\) attempt 2 failed for good: TypeError: multi$/);
    expect(stderr).not.toContain('line error');
  });

  it('show prints the error whole, its later lines indented under the first', async () => {
    const { db } = await initDb();
    await enqueueAll(db, [{ type: 'boom', payload: { kind: 'multiline' }, maxAttempts: 1 }]);
    expect((await cli(['--db', db, 'worker', '--handler', HANDLER, '--until-empty'])).code).toBe(0);
    const shown = await cli(['--db', db, 'show', '1']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/\nlast error {4}TypeError: multi\n {14}line error\n {18}at throwing \(file:\/\/\/.*throwing-handler\.mjs:\d+:\d+\)\n/);
    // The runs table holds the first line only: no row is broken across lines.
    const runsTable = shown.stdout.slice(shown.stdout.indexOf('\nruns\n'), shown.stdout.indexOf('\nevents\n'));
    expect(runsTable.trim().split('\n')).toHaveLength(3);
    expect(runsTable).toMatch(/failed +- +TypeError: multi\n/);
    // list's LAST ERROR cell: the first line, marked as continuing.
    const listed = await cli(['--db', db, 'list']);
    expect(listed.stdout).toMatch(/ TypeError: multi …\n/);
    expect(listed.stdout).not.toContain('line error');
  });
});
