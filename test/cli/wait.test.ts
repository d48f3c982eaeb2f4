// tasklock wait and enqueue --wait on both stores, with a worker running meanwhile in another OS
// process (a library worker handling type "job"; a payload {"fail": text} makes it throw).
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../utils/cli.js';
import { startFixture } from '../utils/fixture-process.js';
import { cleanupLocations, LOCATIONS } from '../utils/store-locations.js';

afterEach(cleanupLocations);

/** A store with a worker process for type "job" running on it. */
async function withWorker(make: () => Promise<string>): Promise<string> {
  const db = await make();
  const init = await cli(['--db', db, 'init']);
  expect(init.code, init.stderr).toBe(0);
  const worker = startFixture('queue-worker.mjs', [JSON.stringify({ db, types: ['job'], concurrency: 4 })]);
  await worker.waitForLine(/^started /);
  return db;
}

async function enqueued(db: string, type: string, payload: unknown, extra: readonly string[] = []): Promise<number> {
  const result = await cli(['--db', db, 'enqueue', type, JSON.stringify(payload), ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return Number(result.stdout.trim());
}

for (const { name, make } of LOCATIONS) {
  describe(`tasklock wait / enqueue --wait (${name})`, () => {
    it('enqueue --wait prints the result the worker process stored; exit 0', async () => {
      const db = await withWorker(make);
      const result = await cli(['--db', db, 'enqueue', 'job', '{"n":1}', '--wait', '--wait-timeout', '20s']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ by: expect.any(Number) });
    });

    it('enqueue --wait of a task that fails: its error on stderr, exit 1', async () => {
      const db = await withWorker(make);
      const result = await cli(['--db', db, 'enqueue', 'job', '{"fail":"no luck"}', '--max-attempts', '1', '--wait']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^task \d+ failed: .*no luck/m);
    });

    it('wait: every task succeeded → one line each, exit 0; --json prints the tasks', async () => {
      const db = await withWorker(make);
      const a = await enqueued(db, 'job', { n: 1 });
      const b = await enqueued(db, 'job', { n: 2 });
      const result = await cli(['--db', db, 'wait', String(a), String(b), '--timeout', '20s']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^${a} succeeded \\{"by":\\d+\\}\\n${b} succeeded \\{"by":\\d+\\}\\n$`));
      const json = await cli(['--db', db, '--json', 'wait', String(a)]);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ tasks: [{ id: a, status: 'succeeded', result: { by: expect.any(Number) } }] });
    });

    it('wait: a task failed or was cancelled → exit 1, each line says how it ended', async () => {
      const db = await withWorker(make);
      const ok = await enqueued(db, 'job', { n: 1 });
      const bad = await enqueued(db, 'job', { fail: 'no luck' }, ['--max-attempts', '1']);
      const cancelled = await enqueued(db, 'nobody-runs-this', null);
      expect((await cli(['--db', db, 'cancel', String(cancelled), '--reason', 'not needed'])).code).toBe(0);
      const result = await cli(['--db', db, 'wait', String(ok), String(bad), String(cancelled)]);
      expect(result.code).toBe(1);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${ok} succeeded `));
      expect(lines[1]).toMatch(new RegExp(`^${bad} failed .*no luck`));
      expect(lines[2]).toMatch(new RegExp(`^${cancelled} cancelled `));
      expect(result.stderr).toBe(`tasklock: tasks ${bad}, ${cancelled} did not succeed\n`);
    });

    it('wait --timeout: a task nobody runs → exit 124 naming it; enqueue --wait --wait-timeout too', async () => {
      const db = await withWorker(make);
      const ok = await enqueued(db, 'job', { n: 1 });
      const stuck = await enqueued(db, 'nobody-runs-this', null);
      const result = await cli(['--db', db, 'wait', String(ok), String(stuck), '--timeout', '300ms']);
      expect(result.code).toBe(124);
      expect(result.stdout).toMatch(new RegExp(`^${ok} succeeded `));
      expect(result.stderr).toBe(`tasklock: task ${stuck} had not ended after 300 ms of waiting\n`);
      const waited = await cli(['--db', db, 'enqueue', 'nobody-runs-this', 'null', '--wait', '--wait-timeout', '200ms']);
      expect(waited.code).toBe(124);
    });

    it('bad input → exit 2 at once: an unknown id, a malformed id or timeout, --wait-timeout without --wait', async () => {
      const db = await withWorker(make);
      const stuck = await enqueued(db, 'nobody-runs-this', null);
      const unknown = await cli(['--db', db, 'wait', String(stuck), '999999']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('tasklock: task 999999 does not exist\n');
      expect((await cli(['--db', db, 'wait', 'abc'])).code).toBe(2);
      expect((await cli(['--db', db, 'wait', String(stuck), '--timeout', 'soon'])).code).toBe(2);
      expect((await cli(['--db', db, 'wait'])).code).toBe(2);
      expect((await cli(['--db', db, 'enqueue', 'job', 'null', '--wait-timeout', '1s'])).code).toBe(2);
    });
  });
}
