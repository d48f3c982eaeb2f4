import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { cli, cliFixture, initDb, show } from '../utils/cli.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

/** Point 2: with --json, stdout is exactly one JSON document, and an error is one JSON object on stderr. */
afterEach(() => removeTempDirs());

describe('worker --json: stdout is the summary alone, whatever the handler prints', () => {
  it('a chatty handler (console.log, console.info, process.stdout.write, at import and per task): JSON.parse(stdout) works', async () => {
    const { db } = await initDb();
    const queue = await Queue.open(db);
    try {
      await queue.enqueueMany([
        { type: 'talk', payload: 1 },
        { type: 'talk', payload: 2 },
        { type: 'talk', payload: { fail: true }, maxAttempts: 1 },
      ]);
    } finally {
      queue.close();
    }
    const run = await cli(['--db', db, 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { worker: string; stats: Record<string, number>; writes: unknown };
    expect(Object.keys(summary)).toEqual(['worker', 'stats', 'writes']);
    expect(summary.stats).toMatchObject({ claimed: 3, succeeded: 2, failed: 1 });
    // Nothing was lost: the handler's lines are on stderr, in order, each whole.
    expect(run.stderr).toContain('chatty: loaded\n');
    for (const id of [1, 2, 3]) {
      for (const via of ['console.log', 'console.info', 'process.stdout.write', 'console.error']) {
        expect(run.stderr).toContain(`chatty: ${via} in task ${id}\n`);
      }
    }
    expect((await show(db, 1)).task.result).toEqual({ ok: 1 });
  });

  it('without --json the text summary is the only line on stdout too', async () => {
    const { db } = await initDb();
    const queue = await Queue.open(db);
    try {
      await queue.enqueue('talk', 1);
    } finally {
      queue.close();
    }
    const run = await cli(['--db', db, 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^worker \S+: 1 claimed, 1 succeeded[^\n]*\n$/);
    expect(run.stderr).toContain('chatty: console.log in task 1\n');
  });
});

interface JsonError {
  error: { code: string; message: string; taskId?: number; engineCode?: string; stack?: string };
}

/** Runs a failing command with --json: nothing on stdout, exactly one JSON line on stderr. */
async function jsonError(args: readonly string[], code: number): Promise<JsonError> {
  const result = await cli(args);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^\{[^\n]*\}\n$/);
  return JSON.parse(result.stderr) as JsonError;
}

describe('--json errors: one object on stderr, the same exit codes', () => {
  it('usage errors from commander: code "usage", exit 2 (--json before or after the command)', async () => {
    const { db } = await initDb();
    expect(await jsonError(['--db', db, '--json', 'list', '--bogus'], 2)).toEqual({ error: { code: 'usage', message: "unknown option '--bogus'" } });
    expect((await jsonError(['--db', db, 'list', '--json', '--limit', 'x'], 2)).error).toEqual({
      code: 'usage',
      message: expect.stringMatching(/^option '--limit <n>' argument 'x' is invalid\. must be an integer/),
    });
    expect((await jsonError(['--db', db, '--json', 'lst'], 2)).error).toMatchObject({ code: 'usage', message: expect.stringMatching(/unknown command 'lst'/) });
  });

  it('library errors keep their code (and task id): exit 2 for bad input, 1 for the rest', async () => {
    const { dir, db } = await initDb();
    expect(await jsonError(['--db', db, '--json', 'show', '42'], 2)).toEqual({ error: { code: 'task-not-found', message: 'task 42 does not exist', taskId: 42 } });
    expect((await jsonError(['--db', db, '--json', 'enqueue', 'job', '{"n":'], 2)).error).toMatchObject({ code: 'bad-input' });
    const notADb = join(dir, 'notes.txt');
    writeFileSync(notADb, 'these are not the pages you are looking for\n'.repeat(200));
    expect((await jsonError(['--db', notADb, '--json', 'stats'], 1)).error).toMatchObject({ code: 'not-a-database', engineCode: expect.stringMatching(/^SQLITE_(NOTADB|CORRUPT)/) });
  });

  it('--verbose adds the stack as a field of the same object', async () => {
    const { db } = await initDb();
    const { error } = await jsonError(['--db', db, '--json', '--verbose', 'show', '42'], 2);
    expect(error.stack).toMatch(/^TaskNotFoundError \[task-not-found\]: task 42 does not exist\n {4}at /);
  });

  it('without --json an error stays one line: tasklock: <message>', async () => {
    const dir = makeTempDir();
    const result = await cli(['--db', join(dir, 'none.db'), 'stats']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tasklock: no database at [^\n]+\n$/);
  });
});
