import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, initDb, show } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterAll(() => removeTempDirs());

const BOM = '\uFEFF';

/** Exit 2, one `tasklock: …` line on stderr, nothing on stdout. */
function expectUsageError(result: { code: number | undefined; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^tasklock: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
}

describe.concurrent('durations on the command line', () => {
  it('--delay and --timeout take the compound forms (1m30s, 1.5s, 1h30m) and a bare number as ms', async () => {
    const { db } = await initDb();
    const cases: [string, number][] = [['1m30s', 90_000], ['1.5s', 1500], ['1h30m', 5_400_000], ['250ms', 250], ['750', 750]];
    for (const [text, ms] of cases) {
      const [id] = (await cliJson<{ ids: number[] }>(db, ['enqueue', 'job', '--delay', text, '--timeout', text])).ids;
      const { task } = await show(db, id!);
      expect(Date.parse(task.runAt as string) - Date.parse(task.createdAt as string), text).toBe(ms);
      expect(task.timeoutMs, text).toBe(ms);
    }
    const purge = await cli(['--db', db, 'purge', '--older-than', '2d3h']);
    expect(purge.code, purge.stderr).toBe(0);
  });

  it('refuses 1m30, s, -1s and 1.2.3s with one line, exit 2', async () => {
    const { db } = await initDb();
    const cases: [string, RegExp][] = [
      ['1m30', /--delay <duration>' argument '1m30' is invalid\. "30" has no unit/],
      ['s', /argument 's' is invalid\. expected a number and a unit/],
      ['-1s', /argument '-1s' is invalid\. a duration cannot be negative/],
      ['1.2.3s', /argument '1\.2\.3s' is invalid\. expected a number and a unit/],
    ];
    for (const [text, message] of cases) expectUsageError(await cli(['--db', db, 'enqueue', 'job', '--delay', text]), message);
    expect((await cliJson<{ tasks: unknown[] }>(db, ['list'])).tasks).toEqual([]);
  });
});

describe.concurrent('enqueue with a unique key answers whether the task was new', () => {
  it('text: the id on stdout either way; "task 1 already exists (unique key k1)" on stderr; exit 0', async () => {
    const { db } = await initDb();
    const first = await cli(['--db', db, 'enqueue', 'mail', '{}', '--unique-key', 'k1']);
    expect(first).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    const again = await cli(['--db', db, 'enqueue', 'mail', '{"other":true}', '--unique-key', 'k1']);
    expect(again).toEqual({ code: 0, stdout: '1\n', stderr: 'task 1 already exists (unique key k1)\n' });
    expect((await show(db, 1)).task.payload).toEqual({});
  });

  it('JSON: {"ids":[1],"created":[false]}, and created is always there', async () => {
    const { db } = await initDb();
    expect(await cliJson(db, ['enqueue', 'mail', '--unique-key', 'k1'])).toEqual({ ids: [1], created: [true] });
    const again = await cli(['--db', db, '--json', 'enqueue', 'mail', '--unique-key', 'k1']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toEqual({ ids: [1], created: [false] });
    expect(await cliJson(db, ['enqueue', 'mail'])).toEqual({ ids: [2], created: [true] });
    // Once the task is no longer live, the key is free again.
    await cliJson(db, ['cancel', '1']);
    expect(await cliJson(db, ['enqueue', 'mail', '--unique-key', 'k1'])).toEqual({ ids: [3], created: [true] });
  });

  it('--file: ids in line order; created and existing counts (text on stderr, arrays in JSON)', async () => {
    const { dir, db } = await initDb();
    await cliJson(db, ['enqueue', 'mail', '--unique-key', 'a']);
    const file = join(dir, 'tasks.jsonl');
    const lines = ['{"type":"mail","uniqueKey":"a"}', '{"type":"mail","uniqueKey":"b"}', '{"type":"mail"}', '{"type":"mail","uniqueKey":"b"}'];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const text = await cli(['--db', db, 'enqueue', '--file', file]);
    expect(text).toEqual({ code: 0, stdout: '1\n2\n3\n2\n', stderr: 'enqueued 2 task(s), 2 already existed (unique key)\n' });
    const json = await cli(['--db', db, '--json', 'enqueue', '--file', file]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({ ids: [1, 2, 4, 2], created: [false, false, true, false] });
    const fresh = await cli(['--db', db, 'enqueue', '--file', '-'], { input: '{"type":"x"}\n{"type":"y"}\n' });
    expect(fresh).toEqual({ code: 0, stdout: '5\n6\n', stderr: 'enqueued 2 task(s)\n' });
  });
});

describe.concurrent('enqueue input: the payload from stdin, byte-order marks', () => {
  it('`enqueue <type> -` reads the payload JSON from stdin', async () => {
    const { db } = await initDb();
    const { ids } = await cliJson<{ ids: number[] }>(db, ['enqueue', 'mail', '-'], { input: '{"to": "a@example.com",\n "n": [1, 2]}\n' });
    expect((await show(db, ids[0]!)).task.payload).toEqual({ to: 'a@example.com', n: [1, 2] });
  });

  it('stdin that is empty or not JSON is one line, exit 2, nothing enqueued', async () => {
    const { db } = await initDb();
    expectUsageError(await cli(['--db', db, 'enqueue', 'mail', '-'], { input: '' }), /^tasklock: payload on stdin is empty/);
    expectUsageError(await cli(['--db', db, 'enqueue', 'mail', '-'], { input: '{"to":' }), /^tasklock: payload on stdin is not valid JSON/);
    expect((await cliJson<{ tasks: unknown[] }>(db, ['list'])).tasks).toEqual([]);
  });

  it('a UTF-8 byte-order mark is dropped: from stdin, from a payload argument, from a --file file and from --file -', async () => {
    const { dir, db } = await initDb();
    const fromStdin = await cliJson<{ ids: number[] }>(db, ['enqueue', 'mail', '-'], { input: `${BOM}{"via":"stdin"}` });
    const fromArgument = await cliJson<{ ids: number[] }>(db, ['enqueue', 'mail', `${BOM}{"via":"argument"}`]);
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, `${BOM}{"type":"mail","payload":{"via":"file"}}\r\n{"type":"mail","payload":2}\r\n`);
    const fromFile = await cliJson<{ ids: number[] }>(db, ['enqueue', '--file', file]);
    const fromFileStdin = await cliJson<{ ids: number[] }>(db, ['enqueue', '--file', '-'], { input: `${BOM}{"type":"mail","payload":{"via":"file -"}}\n` });
    const payloads = await Promise.all([...fromStdin.ids, ...fromArgument.ids, ...fromFile.ids, ...fromFileStdin.ids].map(async (id) => (await show(db, id)).task.payload));
    expect(payloads).toEqual([{ via: 'stdin' }, { via: 'argument' }, { via: 'file' }, 2, { via: 'file -' }]);
  });

  it('a UTF-16 file is refused by name, not as an invisible token', async () => {
    const { dir, db } = await initDb();
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"type":"mail"}\n', 'utf16le')]));
    expectUsageError(await cli(['--db', db, 'enqueue', '--file', file]), new RegExp(`^tasklock: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is UTF-16 .*save it as UTF-8`));
  });
});
