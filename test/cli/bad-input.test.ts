import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { SCHEMA_VERSION } from '@tasklock/core/sqlite';
import { Database } from '../utils/core-deps.js';
import { cli, cliFixture, initDb } from '../utils/cli.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

/**
 * Every bad input exits 2 with exactly one line on stderr ("tasklock: …"), prints nothing on
 * stdout, and leaves the database as it was. One database serves the whole file: it holds a
 * succeeded task (1) and a pending one (2), and after each case `list --json` must print
 * exactly what it printed before.
 */
let db: string;
let before: string;

beforeAll(async () => {
  ({ db } = await initDb());
  const queue = await Queue.open(db);
  try {
    await queue.enqueue('job', { n: 1 });
    await queue.enqueue('job', { n: 2 });
    const [lease] = await queue.claim({ workerId: 'setup' });
    await queue.complete(lease!, { done: true });
  } finally {
    queue.close();
  }
  before = await listJson();
});

afterAll(() => removeTempDirs());

async function listJson(): Promise<string> {
  const result = await cli(['--db', db, '--json', 'list']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

async function expectUsageError(args: readonly string[], message: RegExp, input?: string): Promise<void> {
  const result = await cli(['--db', db, ...args], { input });
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^tasklock: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
}

describe('bad input: exit 2, one line, database unchanged', () => {
  afterEach(async () => {
    expect(await listJson()).toBe(before);
  });

  it('unknown options and commands', async () => {
    await expectUsageError(['list', '--bogus'], /unknown option '--bogus'/);
    await expectUsageError(['enqueue', 'job', '{}', '--priorty', '1'], /unknown option '--priorty' \(Did you mean --priority\?\)/);
    await expectUsageError(['lst'], /unknown command 'lst'/);
  });

  it('malformed JSON payload', async () => {
    await expectUsageError(['enqueue', 'job', '{"n":'], /payload is not valid JSON/);
    await expectUsageError(['enqueue', 'job', 'hello'], /payload is not valid JSON/);
  });

  it('a malformed line in --file names its line number; nothing of the file is enqueued', async () => {
    const lines = ['{"type":"job","payload":1}', '', '{"type":"job","payload":2}', '{"type":"job","payload":', '{"type":"job"}'];
    await expectUsageError(['enqueue', '--file', '-'], /^tasklock: stdin line 4: not valid JSON/, lines.join('\n'));
    // A line the library refuses (valid JSON, invalid task) is named by its line too.
    const refused = ['{"type":"job"}', '', '{"type":"job","priority":"high"}'];
    await expectUsageError(['enqueue', '--file', '-'], /^tasklock: stdin line 3: priority must be an integer/, refused.join('\n'));
    await expectUsageError(['enqueue', '--file', '-'], /stdin line 1: unknown field "tpye"/, '{"tpye":"job"}\n');
  });

  it('unknown task id for show, cancel and retry', async () => {
    for (const command of ['show', 'cancel', 'retry']) await expectUsageError([command, '999'], /^tasklock: task 999 does not exist$/m);
    await expectUsageError(['show', 'abc'], /value 'abc' is invalid for argument 'id'. must be an integer/);
  });

  it('invalid transitions: retry a pending task, cancel a succeeded one', async () => {
    await expectUsageError(['retry', '2'], /^tasklock: task 2: cannot retry a task that is pending$/m);
    await expectUsageError(['cancel', '1'], /^tasklock: task 1: cannot cancel a task that is succeeded$/m);
  });

  it('numbers are validated strictly', async () => {
    await expectUsageError(['enqueue', 'job', '--priority', 'abc'], /option '--priority <int>' argument 'abc' is invalid/);
    await expectUsageError(['enqueue', 'job', '--priority', '1.5'], /--priority/);
    await expectUsageError(['enqueue', 'job', '--max-attempts', '0'], /--max-attempts <n>.*≥ 1/);
    await expectUsageError(['enqueue', 'job', '--delay', 'soon'], /--delay <duration>' argument 'soon' is invalid\. expected a number and a unit/);
    await expectUsageError(['list', '--limit', '10x'], /--limit/);
    await expectUsageError(['purge', '--older-than', '7 days'], /--older-than/);
    await expectUsageError(['purge'], /required option '--older-than <duration>' not specified/);
    await expectUsageError(['list', '--status', 'done'], /must be one of pending, scheduled, running, succeeded, failed, cancelled/);
  });

  it('--db with a scheme no store has', async () => {
    await expectUsageError(['--db', 'redis://localhost/0', 'list'], /^tasklock: redis:\/\/localhost\/0: unknown store scheme redis: \(give a file path, a sqlite: URL or a postgres:\/\/ connection string\)$/m);
  });

  it('--lock bogus', async () => {
    await expectUsageError(['--lock', 'bogus', 'list'], /argument 'bogus' is invalid. must be one of auto, os, lockfile, none\./);
  });

  it('worker: exactly one of --exec/--handler, and a handler module that loads with a default function', async () => {
    await expectUsageError(['worker'], /exactly one of --exec <command> or --handler <module>/);
    await expectUsageError(['worker', '--exec', 'true', '--handler', 'x.mjs'], /exactly one of/);
    await expectUsageError(['worker', '--handler', 'no-such-handler.mjs'], /handler module .*no-such-handler.mjs does not exist/);
    await expectUsageError(['worker', '--handler', cliFixture('no-default.mjs')], /has no default export function/);
    await expectUsageError(['worker', '--exec', 'true', '--lease', '1000', '--heartbeat', '2s'], /heartbeatMs must be shorter than leaseMs/);
    await expectUsageError(['worker', '--exec', 'true', '--heartbeat', '1s', '--dead-after', '1500'], /deadAfterMs must be at least 2 × heartbeatMs \(2000 ms\), got 1500/);
    await expectUsageError(['worker', '--exec', 'true', '--concurrency', '0'], /--concurrency <n>.*≥ 1/);
  });

  it('enqueue: a type and --file together, or neither', async () => {
    await expectUsageError(['enqueue', 'job', '--file', '-'], /give a type and payload, or --file, not both/, '');
    await expectUsageError(['enqueue'], /missing task type/);
    await expectUsageError(['enqueue', 'bad type!'], /type must be 1-200 characters/);
  });
});

describe('databases tasklock cannot use: one line, exit 1', () => {
  it('a schema newer than this tasklock: names both versions and leaves the file alone', async () => {
    const dir = makeTempDir();
    const path = join(dir, 'new.db');
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    const bytes = readFileSync(path);
    const result = await cli(['--db', path, 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`tasklock: ${path} has schema version 99, newer than this tasklock knows (${SCHEMA_VERSION}); upgrade tasklock\n`);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a file that is not a database', async () => {
    const path = join(makeTempDir(), 'notes.db');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const result = await cli(['--db', path, 'stats']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`tasklock: ${path} is not a SQLite database (or it is corrupted)\n`);
    expect(readFileSync(path, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
  });

  it('a lock strategy other than the recorded one', async () => {
    const result = await cli(['--db', db, '--lock', 'lockfile', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tasklock: .* is set up for lock strategy os, not lockfile: [^\n]*--reset-lock-strategy\)\n$/);
  });

  it('--verbose adds the stack', async () => {
    const result = await cli(['--db', db, '--verbose', 'show', '999']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('tasklock: task 999 does not exist');
    // In the form a task's stored error takes: class [code]: message, then the frames.
    expect(result.stderr).toMatch(/\nTaskNotFoundError \[task-not-found\]: task 999 does not exist\n\s+at /);
  });
});
