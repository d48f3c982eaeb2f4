// The PostgreSQL store's import under the queue (what every store must do is in
// test/conformance/transfer.test.ts): its id sequence.
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, readExport } from '@tasklock/core';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';

const opened: Queue[] = [];

afterEach(async () => {
  for (const queue of opened.splice(0)) queue.close();
  await dropPgDatabases();
});

async function open(): Promise<Queue> {
  const queue = await Queue.open(await makePgDatabase());
  opened.push(queue);
  return queue;
}

describe('PostgreSQL store: import', () => {
  it('moves the id sequence past the imported ids, never back: ids handed out before (to tasks since purged) are not handed out again', async () => {
    const source = await open();
    for (let i = 0; i < 3; i += 1) await source.enqueue('job', { i });
    const lines: string[] = [];
    await source.exportTasks({}, async (line) => {
      lines.push(line);
    });
    const target = await open();
    for (let i = 0; i < 10; i += 1) await target.enqueue('gone', null);
    await target.cancelMany({ type: 'gone' });
    expect(await target.purge({ olderThanMs: 0 })).toBe(10);
    await target.importTasks(await readExport(lines, 'export'));
    expect((await target.list()).map((task) => task.id)).toEqual([1, 2, 3]);
    expect((await target.enqueue('job', null)).id).toBe(11);
  });
});
