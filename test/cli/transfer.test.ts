// `tasklock export` / `tasklock import`: moving a queue between stores, SQLite → PostgreSQL → SQLite,
// and the refusals that write nothing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { cli, cliJson, initDb } from '../utils/cli.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => dropPgDatabases());
afterAll(() => removeTempDirs());

/** A SQLite queue with a task in each status and a stored event of each kind, made through the library. */
async function historyIn(db: string): Promise<void> {
  const queue = await Queue.open(db);
  try {
    await queue.enqueue('mail', { to: 'a' }, { priority: 3, uniqueKey: 'mail-a' });
    await queue.enqueue('mail', { to: 'b' }, { delayMs: 3_600_000 });
    await queue.enqueue('report', { week: 1 }, { queue: 'reports' });
    const [report] = await queue.claim({ workerId: 'w-1', queue: 'reports' });
    await queue.complete(report!, { rows: 2 }, 'w-1');
    const flaky = await queue.enqueue('flaky', null, { queue: 'flaky', maxAttempts: 1 });
    const [attempt] = await queue.claim({ workerId: 'w-2', queue: 'flaky' });
    await queue.fail(attempt!, 'Error: broke\n    at x (y.js:1:1)', 'w-2');
    await queue.retry(flaky.id);
    const doomed = await queue.enqueue('long', null, { queue: 'long' });
    await queue.claim({ workerId: 'w-3', queue: 'long' });
    await queue.cancel(doomed.id, 'not needed');
  } finally {
    queue.close();
  }
}

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

async function taskCount(db: string): Promise<number> {
  const { tasks } = await cliJson<{ tasks: unknown[] }>(db, ['list', '--limit', '1000']);
  return tasks.length;
}

describe('tasklock export / import', () => {
  it('SQLite → PostgreSQL → SQLite: every task line comes back byte for byte, and the event logs match', async () => {
    const { dir, db } = await initDb();
    await historyIn(db);
    const file = join(dir, 'queue.ndjson');
    const exported = await cliJson<{ file: string; tasks: number; runs: number; events: number }>(db, ['export', '--out', file]);
    expect(exported).toEqual({ file, tasks: 5, runs: 3, events: 2 });
    const first = lines(readFileSync(file, 'utf8'));
    expect(first).toHaveLength(7);

    const url = await makePgDatabase();
    const imported = await cli(['--db', url, 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`^imported 5 task\\(s\\), 3 run\\(s\\), 2 stored event\\(s\\) from ${file} \\(exported from sqlite at .*Z\\)\\n$`));
    const fromPg = await cli(['--db', url, 'export']);
    expect(fromPg.code, fromPg.stderr).toBe(0);
    expect(fromPg.stderr).toBe('');
    const second = lines(fromPg.stdout);
    expect(JSON.parse(second[0]!).source.engine).toBe('postgres');
    expect(second.slice(1)).toEqual(first.slice(1));

    const back = join(makeTempDir('tasklock-cli-'), 'back.db');
    const again = await cli(['--db', back, 'import', '-'], { input: fromPg.stdout });
    expect(again.code, again.stderr).toBe(0);
    const third = lines((await cli(['--db', back, 'export'])).stdout);
    expect(third.slice(1)).toEqual(first.slice(1));

    for (const id of [1, 4, 5]) {
      const [original, onPg, returned] = await Promise.all([db, url, back].map((store) => cliJson(store, ['show', String(id)])));
      expect(onPg).toEqual(original);
      expect(returned).toEqual(original);
    }
    // Later enqueues get fresh ids in both targets.
    expect((await cliJson<{ ids: number[] }>(url, ['enqueue', 'mail', '{}'])).ids).toEqual([6]);
    expect((await cliJson<{ ids: number[] }>(back, ['enqueue', 'mail', '{}'])).ids).toEqual([6]);
  });

  it('malformed input: exit 2, one line naming the line, nothing imported (and no new database made)', async () => {
    const { dir, db } = await initDb();
    await historyIn(db);
    const good = lines((await cli(['--db', db, 'export'])).stdout);
    const { db: target } = await initDb();
    await cliJson(target, ['enqueue', 'mine', '{}']);
    const fresh = join(dir, 'never.db');
    const cases: [string, string[], RegExp][] = [
      ['bad JSON', [good[0]!, good[1]!, '{"task": {', ...good.slice(2)], /line 3: not valid JSON/],
      ['a wrong field', [good[0]!, good[1]!.replace('"status":"pending"', '"status":"done"'), ...good.slice(2)], /line 2: task\.status must be one of pending, running/],
      ['an unknown version', [good[0]!.replace('"version":1', '"version":2'), ...good.slice(1)], /line 1: export format version 2 is unknown to this tasklock \(it reads version 1\)/],
      ['no end line', good.slice(0, -1), /ends at line 6 without its end line: the export was cut short/],
      ['a task twice', [...good.slice(0, 2), good[1]!, ...good.slice(2)], /line 3: task 1 is also on line 2/],
      ['runs that do not add up', [good[0]!, good[1]!, good[2]!, good[3]!.replace('"attempts":1', '"attempts":2'), ...good.slice(4)], /line 4: task 3: 2 attempt\(s\) but 1 run\(s\)/],
    ];
    for (const [what, input, message] of cases) {
      for (const store of [target, fresh]) {
        const result = await cli(['--db', store, 'import', '-'], { input: `${input.join('\n')}\n` });
        expect(result.code, what).toBe(2);
        expect(result.stderr, what).toMatch(new RegExp(`^tasklock: import: stdin ${message.source}.*; nothing was imported\\n$`));
        expect(result.stdout, what).toBe('');
      }
    }
    expect(await taskCount(target)).toBe(1);
    expect(existsSync(fresh)).toBe(false);
    const missing = await cli(['--db', target, 'import', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tasklock: cannot read .*nope\.ndjson: ENOENT\n$/);
  });

  it('into a store that already holds one of the ids: exit 2, one line, nothing imported', async () => {
    const { db } = await initDb();
    await historyIn(db);
    const text = (await cli(['--db', db, 'export'])).stdout;
    const url = await makePgDatabase();
    for (let i = 0; i < 4; i += 1) await cliJson(url, ['enqueue', 'mine', '{}']);
    await cliJson(url, ['cancel', '1', '2', '3']);
    await cliJson(url, ['purge', '--older-than', '0']);
    const result = await cli(['--db', url, 'import', '-'], { input: text });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('tasklock: import: task id(s) 4 already exist in the target store; nothing was imported\n');
    expect(await taskCount(url)).toBe(1);
    expect((await cliJson<{ ids: number[] }>(url, ['enqueue', 'mine', '{}'])).ids).toEqual([5]);
  });

  it('running tasks: refused by default (no file left), exported with --allow-running, reclaimed by the target once their lease is gone', async () => {
    const { dir, db } = await initDb();
    await cliJson(db, ['enqueue', 'job', '{}']);
    const queue = await Queue.open(db);
    const [held] = await queue.claim({ workerId: 'w-old', queue: 'default', leaseMs: 200 }).finally(() => queue.close());
    const file = join(dir, 'out.ndjson');
    const refused = await cli(['--db', db, 'export', '--out', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^tasklock: export: task\(s\) 1 are running, leased to workers of this store: stop the workers first, or .*--allow-running.*\n$/);
    expect(readdirSync(dir).filter((name) => name.includes('out.ndjson'))).toEqual([]);
    const toStdout = await cli(['--db', db, 'export']);
    expect(toStdout.code).toBe(2);
    expect(toStdout.stdout).toBe('');

    expect((await cli(['--db', db, 'export', '--out', file, '--allow-running'])).code).toBe(0);
    const url = await makePgDatabase();
    expect(await cliJson(url, ['import', file])).toEqual({ tasks: 1, runs: 1, events: 0, source: { engine: 'sqlite', schemaVersion: expect.any(Number) }, exportedAt: expect.any(String) });
    expect((await cliJson<{ task: { status: string } }>(url, ['show', '1'])).task.status).toBe('running');
    while (Date.now() <= held!.leaseExpiresAt) await new Promise((resolve) => setTimeout(resolve, held!.leaseExpiresAt - Date.now() + 1));
    expect((await cli(['--db', url, 'reclaim'])).code).toBe(0);
    const shown = await cliJson<{ task: { status: string }; runs: { outcome: string }[]; events: { transition: string }[] }>(url, ['show', '1']);
    expect(shown.task.status).toBe('pending');
    expect(shown.runs.map((run) => run.outcome)).toEqual(['reclaimed']);
    expect(shown.events.map((event) => event.transition)).toEqual(['enqueue', 'claim', 'reclaim']);
  });

  it('--out refuses an existing file unless --force; --status/--type/--queue narrow the export', async () => {
    const { dir, db } = await initDb();
    await historyIn(db);
    const file = join(dir, 'exists.ndjson');
    writeFileSync(file, 'keep me');
    const refused = await cli(['--db', db, 'export', '--out', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`tasklock: ${file} exists; pass --force to replace it\n`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expect((await cli(['--db', db, 'export', '--out', file, '--force', '--type', 'mail', '--status', 'pending,scheduled'])).code).toBe(0);
    const narrowed = lines(readFileSync(file, 'utf8'));
    expect(JSON.parse(narrowed[0]!).filter).toEqual({ status: ['pending', 'scheduled'], type: ['mail'], queue: null });
    expect(narrowed.slice(1, -1).map((line) => JSON.parse(line).task.id)).toEqual([1, 2]);
    expect(JSON.parse(narrowed.at(-1)!)).toEqual({ end: { tasks: 2, runs: 0, events: 0 } });
  });
});
