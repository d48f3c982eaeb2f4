import { afterEach, describe, expect, it } from 'vitest';
import { readExport, type Queue } from '@tasklock/core';
import { replayStatus } from '../utils/lifecycle.js';
import { forEachStore, STORES, untilPast } from './stores.js';

/** Every line the export writes, in order. */
async function exported(queue: Queue, options: Parameters<Queue['exportTasks']>[0] = {}): Promise<string[]> {
  const lines: string[] = [];
  await queue.exportTasks(options, async (line) => {
    lines.push(line);
  });
  return lines;
}

/** The lines read back (every one checked), then imported. */
async function importLines(queue: Queue, lines: readonly string[]) {
  return queue.importTasks(await readExport(lines, 'export'));
}

/** Every task with its runs and its whole event log, read through the queue; stored events' ids are each store's own. */
async function everything(queue: Queue) {
  const tasks = await queue.list({ limit: 100_000 });
  return Promise.all(
    tasks.map(async (task) => ({
      task,
      runs: await queue.runs(task.id),
      events: (await queue.events(task.id)).map((event) => ({ ...event, id: event.id === null ? 'derived' : 'stored' })),
    })),
  );
}

/** A queue with a task in every status and every kind of history, with a gap in its ids. */
async function variedQueue(queue: Queue): Promise<void> {
  await queue.enqueue('mail', { to: 'a', n: [1, 2.5, 'ü'] }, { queue: 'outbox', priority: 7, uniqueKey: 'mail-a', timeoutMs: 9000, backoff: { baseMs: 250 } });
  await queue.enqueue('mail', { later: true }, { queue: 'outbox', delayMs: 3_600_000, uniqueKey: 'done-key' });
  const gone = await queue.enqueue('gone', null, { queue: 'gone' });
  await queue.cancel(gone.id, 'to leave a gap');
  expect(await queue.purge({ olderThanMs: 0, statuses: ['cancelled'] })).toBe(1);
  // succeeded, finished by a caller other than its worker, with progress and a result
  await queue.enqueue('report', { week: 12 }, { queue: 'reports' });
  const [report] = await queue.claim({ workerId: 'w-1', queue: 'reports' });
  await queue.heartbeat(report!, { leaseMs: 30_000, progress: { done: 0.5 } });
  await queue.complete(report!, { rows: 3 }, 'api');
  // failed twice (a multi-line error: the derived fail event keeps its first line), then retried by an operator, then failed for good
  await queue.enqueue('flaky', { x: 1 }, { queue: 'flaky', maxAttempts: 2, backoff: { baseMs: 1, maxMs: 1 } });
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const due = (await queue.list({ queue: 'flaky' }))[0]!.runAt;
    await untilPast(due, 'the retry');
    const [flaky] = await queue.claim({ workerId: `w-${attempt}`, queue: 'flaky' });
    await queue.fail(flaky!, `Error: attempt ${attempt} broke  \n    at handler (x.js:1:1)`, `w-${attempt}`);
  }
  await queue.retry((await queue.list({ queue: 'flaky' }))[0]!.id);
  // reclaimed after its lease ran out, released by a graceful shutdown, then cancelled while running
  const held = await queue.enqueue('long', { big: 'x'.repeat(2000) }, { queue: 'long', maxAttempts: 5, uniqueKey: 'long-1' });
  const [stale] = await queue.claim({ workerId: 'w-old', queue: 'long', leaseMs: 100 });
  await queue.recordHandlerGroup(stale!, process.pid);
  await untilPast(stale!.leaseExpiresAt, 'the lease');
  expect((await queue.reclaim()).leaseExpired).toBe(1);
  const [again] = await queue.claim({ workerId: 'w-new', queue: 'long' });
  await queue.release(again!, 'w-new');
  await queue.claim({ workerId: 'w-new', queue: 'long' });
  await queue.cancel(held.id, 'operator: wrong input');
}

/** Every store as a target, closed and removed after each test (the store under test cleans its own). */
const targets = STORES;
afterEach(async () => {
  for (const target of targets) await target.cleanup();
});

forEachStore((store) => {
  describe('export / import', () => {
    for (const target of targets) {
      it(`to a ${target.name} store: every task whole (row, runs, its derived and stored events), ids kept; the target exports the same lines`, async () => {
        const source = await store.open();
        await variedQueue(source);
        const lines = await exported(source);
        expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'tasklock-export', version: 1, source: { engine: store.name }, filter: null, allowRunning: false });
        expect(JSON.parse(lines.at(-1)!)).toEqual({ end: { tasks: 5, runs: 6, events: 3 } });
        const copy = await target.open();
        expect(await importLines(copy, lines)).toMatchObject({ tasks: 5, runs: 6, events: 3, source: { engine: store.name } });
        const before = await everything(source);
        expect(await everything(copy)).toEqual(before);
        for (const { task } of before) expect(await replayStatus(copy, task.id)).toBe(task.status);
        const again = await exported(copy);
        expect(again.slice(1)).toEqual(lines.slice(1));
        expect(JSON.parse(again[0]!)).toMatchObject({ source: { engine: target.name } });
      });
    }

    it('a later enqueue gets a fresh id past the imported ones; the imported tasks run as any other', async () => {
      const source = await store.open();
      for (let i = 0; i < 5; i += 1) await source.enqueue('job', { i });
      await source.cancel(1);
      await source.purge({ olderThanMs: 0 });
      const lines = await exported(source);
      const target = await store.open();
      await target.enqueue('local', null);
      expect(await importLines(target, lines)).toMatchObject({ tasks: 4 });
      const next = await target.enqueue('job', { i: 5 });
      expect(next.id).toBe(6);
      const claimed = await target.claim({ workerId: 'w', queue: 'default', limit: 10, types: ['job'] });
      expect(claimed.map((task) => task.id)).toEqual([2, 3, 4, 5, 6]);
    });

    it('an id that exists in the target refuses the whole import, naming it; nothing is written', async () => {
      const source = await store.open();
      for (let i = 0; i < 3; i += 1) await source.enqueue('job', { i });
      const lines = await exported(source);
      const target = await store.open();
      await target.enqueue('mine', null);
      await target.enqueue('mine', null);
      await target.cancel(1);
      await target.purge({ olderThanMs: 0 });
      const before = await everything(target);
      await expect(importLines(target, lines)).rejects.toMatchObject({ code: 'bad-input', taskId: 2, message: expect.stringMatching(/task id\(s\) 2 already exist .*nothing was imported/) });
      expect(await everything(target)).toEqual(before);
      expect((await target.enqueue('mine', null)).id).toBe(3);
    });

    it("a live task's unique key held by a live task of the target refuses the import; nothing is written", async () => {
      const source = await store.open();
      for (let i = 0; i < 10; i += 1) await source.enqueue('pad', null);
      await source.enqueue('job', null, { uniqueKey: 'k-1' });
      await source.enqueue('job', null, { uniqueKey: 'k-2' });
      const lines = await exported(source, { type: 'job' });
      const target = await store.open();
      for (let i = 0; i < 5; i += 1) await target.enqueue('pad', null);
      await target.enqueue('mine', null, { uniqueKey: 'k-2' });
      const before = await everything(target);
      await expect(importLines(target, lines)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/unique key\(s\) "k-2" are held by live tasks/) });
      expect(await everything(target)).toEqual(before);
    });

    it('running tasks: refused by default, naming them; allowed, exported as they are, and the target reclaims them once their lease runs out', async () => {
      const source = await store.open();
      await source.enqueue('job', null);
      const running = await source.enqueue('job', null, { maxAttempts: 2 });
      await source.claim({ workerId: 'w-1', queue: 'default', limit: 1, types: ['job'] });
      const [held] = await source.claim({ workerId: 'w-old', queue: 'default', leaseMs: 100 });
      expect(held!.id).toBe(running.id);
      await expect(exported(source)).rejects.toMatchObject({ code: 'bad-input', taskId: 1, message: expect.stringMatching(/task\(s\) 1, 2 are running/) });
      expect(await exported(source, { status: ['pending', 'succeeded'] })).toHaveLength(2);
      const lines = await exported(source, { allowRunning: true });
      expect(JSON.parse(lines[0]!)).toMatchObject({ allowRunning: true });
      const target = await store.open();
      await importLines(target, lines);
      expect(await target.get(running.id)).toEqual(await source.get(running.id));
      await untilPast(held!.leaseExpiresAt, 'the lease');
      await target.reclaim();
      expect(await target.get(running.id)).toMatchObject({ status: 'pending', attempts: 1 });
      expect((await target.runs(running.id)).map((run) => run.outcome)).toEqual(['reclaimed']);
      const [fresh] = await target.claim({ workerId: 'w-new', queue: 'default', types: ['job'], limit: 5 });
      expect(fresh).toMatchObject({ id: running.id, attempts: 2 });
    });

    it('a filter exports only its tasks; the header says which', async () => {
      const source = await store.open();
      await source.enqueue('a', null, { queue: 'one' });
      await source.enqueue('b', null, { queue: 'one' });
      await source.enqueue('a', null, { queue: 'two' });
      const lines = await exported(source, { type: 'a', queue: ['one', 'two'] });
      expect(JSON.parse(lines[0]!).filter).toEqual({ status: null, type: ['a'], queue: ['one', 'two'] });
      expect(lines.slice(1, -1).map((line) => JSON.parse(line).task.id)).toEqual([1, 3]);
    });

    it('pages do not repeat or skip a task: a fixed page size, and pages sized by what the last one weighed (small tasks, then 900 KB ones)', async () => {
      const source = await store.open();
      await source.enqueueMany(Array.from({ length: 7 }, (_, i) => ({ type: 'job', payload: i })));
      const lines = await exported(source, { pageSize: 3 });
      expect(lines.slice(1, -1).map((line) => JSON.parse(line).task.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      await source.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: 'job', payload: i })));
      await source.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ type: 'big', payload: { i, pad: 'p'.repeat(900_000) } })));
      const sized = await exported(source);
      expect(sized.slice(1, -1).map((line) => JSON.parse(line).task.id)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    });
  });
});
