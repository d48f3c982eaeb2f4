import { afterEach, describe, expect, it, vi } from 'vitest';
import { Queue } from '@tasklock/core';
import { cli, cliFixture, initDb, killAllWorkers, show, startWorker } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

/** Point 4: `worker --log-format text|json`. */
afterEach(async () => {
  await killAllWorkers();
  removeTempDirs();
});

interface Record {
  time: string;
  level: string;
  worker: string;
  msg: string;
  taskId?: number;
  source?: string;
  stream?: string;
  [field: string]: unknown;
}

async function seed(db: string): Promise<void> {
  const queue = await Queue.open(db);
  try {
    await queue.enqueueMany([
      { type: 'talk', payload: 1 },
      { type: 'talk', payload: { fail: true }, maxAttempts: 1 },
    ]);
  } finally {
    queue.close();
  }
}

describe('worker --log-format json', () => {
  it('every stderr line is a JSON object with time, level and worker; task lines carry taskId', async () => {
    const { db } = await initDb();
    await seed(db);
    const run = await cli(['--db', db, '--json', 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty', '--worker-id', 'w-json', '--log-format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ worker: 'w-json', stats: { succeeded: 1, failed: 1 } });
    const lines = run.stderr.trimEnd().split('\n');
    const records = lines.map((line) => JSON.parse(line) as Record);
    for (const record of records) {
      expect(record).toMatchObject({ worker: 'w-json', level: expect.stringMatching(/^(debug|info|warn|error)$/), msg: expect.any(String) });
      expect(new Date(record.time).toISOString()).toBe(record.time);
    }
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining(['worker w-json started', 'worker w-json stopped']));
    // The failure: its own line, with the task and the whole error as fields.
    const failure = records.find((r) => r.msg.startsWith('task 2 (talk) attempt 1 failed for good'));
    expect(failure).toMatchObject({ level: 'error', taskId: 2, type: 'talk', attempt: 1, final: true, error: expect.stringMatching(/^Error: chatty: task 2 asked to fail\n {4}at /) });
    // What the handler printed, as records of the task that printed it; at import, no task.
    const handler = records.filter((r) => r.source === 'handler');
    expect(handler.find((r) => r.msg === 'chatty: loaded')).toMatchObject({ stream: 'stdout', level: 'info' });
    expect(handler.find((r) => r.msg === 'chatty: loaded')!.taskId).toBeUndefined();
    for (const id of [1, 2]) {
      expect(handler.find((r) => r.msg === `chatty: console.log in task ${id}`)).toMatchObject({ stream: 'stdout', taskId: id });
      expect(handler.find((r) => r.msg === `chatty: process.stdout.write in task ${id}`)).toMatchObject({ stream: 'stdout', taskId: id });
      expect(handler.find((r) => r.msg === `chatty: console.error in task ${id}`)).toMatchObject({ stream: 'stderr', level: 'warn', taskId: id });
    }
  });

  it('signal lines are JSON too', async () => {
    const { db } = await initDb();
    const worker = startWorker(db, ['--handler', cliFixture('sleep-handler.mjs'), '--log-format', 'json']);
    await vi.waitFor(() => expect(worker.log()).toContain('started'), { timeout: 15_000, interval: 50 });
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const records = exit.stderr.trimEnd().split('\n').map((line) => JSON.parse(line) as Record);
    expect(records.find((r) => r.msg.startsWith('SIGTERM: stopping'))).toMatchObject({ level: 'info', signal: 'SIGTERM' });
  });

  it('text (the default) keeps its look: "<ISO time> <level> <message>"; handler output passes through as written', async () => {
    const { db } = await initDb();
    await seed(db);
    const run = await cli(['--db', db, 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty', '--log-format', 'text']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    const logLines = lines.filter((line) => !line.startsWith('chatty: '));
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const line of logLines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) \S/);
    expect(lines).toContain('chatty: console.log in task 1');
    expect((await show(db, 1)).task.status).toBe('succeeded');
  });

  it('a bad value is a usage error: exit 2, one line', async () => {
    const { db } = await initDb();
    const run = await cli(['--db', db, 'worker', '--handler', cliFixture('echo-handler.mjs'), '--log-format', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("tasklock: option '--log-format <format>' argument 'xml' is invalid. Allowed choices are text, json.\n");
  });
});
