// The PostgreSQL store's import under the queue (what every store must do is in
// test/conformance/transfer.test.ts): its id sequence.
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, readExport } from '@tasklock/core';
import { closeQueues, openTempQueue } from '../utils/lifecycle.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { removeTempDirs } from '../utils/temp-dir.js';

const opened: Queue[] = [];

afterEach(async () => {
  for (const queue of opened.splice(0)) queue.close();
  closeQueues();
  removeTempDirs();
  await dropPgDatabases();
});

async function exported(queue: Queue): Promise<string[]> {
  const lines: string[] = [];
  await queue.exportTasks({}, async (line) => {
    lines.push(line);
  });
  return lines;
}

async function open(): Promise<Queue> {
  const queue = await Queue.open(await makePgDatabase());
  opened.push(queue);
  return queue;
}

describe('PostgreSQL store: import', () => {
  it('moves the id sequence past the imported ids, never back: ids handed out before (to tasks since purged) are not handed out again', async () => {
    const source = await open();
    for (let i = 0; i < 3; i += 1) await source.enqueue('job', { i });
    const lines = await exported(source);
    const target = await open();
    for (let i = 0; i < 10; i += 1) await target.enqueue('gone', null);
    await target.cancelMany({ type: 'gone' });
    expect(await target.purge({ olderThanMs: 0 })).toBe(10);
    await target.importTasks(await readExport(lines, 'export'));
    expect((await target.list()).map((task) => task.id)).toEqual([1, 2, 3]);
    expect((await target.enqueue('job', null)).id).toBe(11);
  });

  it('a NUL character (SQLite text may hold one, PostgreSQL text cannot) refuses the import by task and field, before anything is written', async () => {
    const source = await openTempQueue();
    await source.enqueue('ok', null);
    await source.enqueue('job', null, { maxAttempts: 1, queue: 'nul' });
    const [lease] = await source.claim({ workerId: 'w', queue: 'nul' });
    await source.fail(lease!, 'Error: bad byte \0 here');
    const lines = await exported(source);
    const target = await open();
    await expect(target.importTasks(await readExport(lines, 'export'))).rejects.toMatchObject({
      code: 'bad-input',
      taskId: 2,
      message: "import: task 2: task's last_error holds a NUL character, which PostgreSQL text cannot store; nothing was imported",
    });
    expect(await target.list()).toEqual([]);
  });

  it('writes an import of many tasks, and of large ones, in several statements of one transaction: every task arrives, in id order', async () => {
    const source = await openTempQueue();
    const big = 'x'.repeat(1024 * 1024 - 100);
    await source.enqueueMany(Array.from({ length: 2100 }, (_, i) => ({ type: 'job', payload: i % 210 === 0 ? { big, i } : { i } })));
    const lines = await exported(source);
    const target = await open();
    expect(await target.importTasks(await readExport(lines, 'export'))).toMatchObject({ tasks: 2100 });
    expect((await exported(target)).slice(1)).toEqual(lines.slice(1));
    expect((await target.enqueue('next', null)).id).toBe(2101);
  });
});
