import { afterEach, describe, expect, it } from 'vitest';
import { Queue, type StreamEvent } from '@tasklock/core';
import { pg } from '../utils/core-deps.js';
import { startFixture } from '../utils/fixture-process.js';
import { makePgDatabase } from '../utils/pg-database.js';
import { cleanupLocations, LOCATIONS } from '../utils/store-locations.js';
import { until } from '../utils/until.js';

afterEach(cleanupLocations);

async function drain(queue: Queue, after?: string): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of queue.events({ follow: false, ...(after === undefined ? {} : { after }) })) events.push(event);
  return events;
}

/** Follows the stream from `after` into `into` until `signal` aborts or `stopAfter` events were taken. */
async function follow(queue: Queue, into: StreamEvent[], options: { after?: string; signal: AbortSignal; stopAfter?: number }): Promise<void> {
  let taken = 0;
  for await (const event of queue.events({ signal: options.signal, ...(options.after === undefined ? {} : { after: options.after }) })) {
    into.push(event);
    if ((taken += 1) === options.stopAfter) return;
  }
}

for (const { name, make } of LOCATIONS) {
  describe(`the event stream with the worker in another process (${name})`, () => {
    it('a follower restarted from its last id sees every event once, in the order a full read gives', async () => {
      const db = await make();
      const queue = await Queue.open(db);
      const controller = new AbortController();
      try {
        await queue.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: 'job', payload: i })));
        const seen: StreamEvent[] = [];
        const firstRun = follow(queue, seen, { signal: controller.signal, stopAfter: 25 });
        const worker = startFixture('queue-worker.mjs', [JSON.stringify({ db, concurrency: 4 })]);
        await worker.waitForLine(/^started /);
        await firstRun;
        // A restart while the worker goes on: from the last id handled.
        const rest = follow(queue, seen, { signal: controller.signal, after: seen[seen.length - 1]!.id });
        await until('every completion streamed', async () => seen.filter((e) => e.transition === 'complete').length === 30);
        controller.abort();
        await rest;
        const all = await drain(queue);
        expect(all).toHaveLength(90);
        expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
        for (const task of new Set(all.map((e) => e.taskId))) {
          expect(all.filter((e) => e.taskId === task).map((e) => e.transition)).toEqual(['enqueue', 'claim', 'complete']);
        }
      } finally {
        controller.abort();
        queue.close();
      }
    });
  });
}

describe('the event stream on PostgreSQL: commit order is not xid order', () => {
  const HELD_INSERT = `INSERT INTO tasklock.tasks (type, status, payload, max_attempts, backoff, run_at, created_at, updated_at)
                       VALUES ('held', 'pending', 'null', 1, '{"baseMs":1000,"factor":2,"maxMs":3600000}', 0, 0, 0) RETURNING id`;

  for (const end of ['COMMIT', 'ROLLBACK'] as const) {
    it(`an event of a transaction held open is not passed by a later one; after its ${end} each is delivered once, in cursor order`, async () => {
      const url = await makePgDatabase();
      const queue = await Queue.open(url);
      const holder = new pg.Client({ connectionString: url });
      await holder.connect();
      const controller = new AbortController();
      try {
        const seen: StreamEvent[] = [];
        const following = follow(queue, seen, { signal: controller.signal });
        await holder.query('BEGIN');
        const held = Number((await holder.query<{ id: string }>(HELD_INSERT)).rows[0]!.id);
        const later = await queue.enqueue('later', null);
        // The later enqueue has committed, but it may not be delivered before the held one ends.
        expect(await drain(queue)).toEqual([]);
        await holder.query(end);
        const expected = end === 'COMMIT' ? [`${held}:enqueue`, `${later.id}:enqueue`] : [`${later.id}:enqueue`];
        await until('the stream delivered both', async () => seen.length >= expected.length);
        controller.abort();
        await following;
        expect(seen.map((e) => `${e.taskId}:${e.transition}`)).toEqual(expected);
        expect((await drain(queue)).map((e) => e.id)).toEqual(seen.map((e) => e.id));
      } finally {
        controller.abort();
        await holder.end();
        queue.close();
      }
    });
  }
});
