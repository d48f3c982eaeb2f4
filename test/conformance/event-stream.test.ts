import { describe, expect, it } from 'vitest';
import type { EventStreamOptions, Queue, StreamEvent } from '@tasklock/core';
import { forEachStore } from './stores.js';

/** The whole log as a non-following stream gives it now. */
async function drain(queue: Queue, options: EventStreamOptions = {}): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of queue.events({ ...options, follow: false })) events.push(event);
  return events;
}

/** "<task>:<transition>" of each event, in order. */
const moves = (events: readonly StreamEvent[]) => events.map((e) => `${e.taskId}:${e.transition}`);

forEachStore((store) => {
  describe('queue.events (the stream)', () => {
    it('gives every move of every task in commit order, each id a cursor to go on from without repeats', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const a = await queue.enqueue('job', 1);
      const b = await other.enqueue('job', 2, { maxAttempts: 1 });
      const [held] = await other.claim({ workerId: 'w', limit: 1 });
      await other.complete(held!, 'ok', 'w');
      const [next] = await queue.claim({ workerId: 'w2', limit: 1 });
      await queue.fail(next!, 'boom', 'w2');
      await other.retry(b.id);
      await other.cancel(b.id, 'enough');
      const all = await drain(queue);
      expect(moves(all)).toEqual([`${a.id}:enqueue`, `${b.id}:enqueue`, `${a.id}:claim`, `${a.id}:complete`, `${b.id}:claim`, `${b.id}:fail`, `${b.id}:retry`, `${b.id}:cancel`]);
      expect(all[5]).toMatchObject({ from: 'running', to: 'failed', detail: 'boom', attempt: 1, workerId: 'w2' });
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      // From any event on: exactly the rest.
      for (let i = 0; i < all.length; i += 1) expect(moves(await drain(other, { after: all[i]!.id }))).toEqual(moves(all.slice(i + 1)));
      expect(moves(await drain(queue, { types: ['claim', 'cancel'] }))).toEqual([`${a.id}:claim`, `${b.id}:claim`, `${b.id}:cancel`]);
    });

    it('follows (tail -f): an iterator started with `after` yields what other handles commit later, and `signal` ends it', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      const first = await queue.enqueue('job', 0);
      const [start] = await drain(queue);
      const controller = new AbortController();
      const seen: StreamEvent[] = [];
      const following = (async () => {
        for await (const event of queue.events({ after: start!.id, signal: controller.signal })) {
          seen.push(event);
          if (seen.length === 3) controller.abort();
        }
      })();
      const second = await other.enqueue('job', 1);
      const [held] = await other.claim({ workerId: 'w', limit: 1 });
      await other.complete(held!, null, 'w');
      await following;
      expect(moves(seen)).toEqual([`${second.id}:enqueue`, `${first.id}:claim`, `${first.id}:complete`]);
    });

    it('an iterator stopped and started again from the last id it handled misses nothing and repeats nothing', async () => {
      const queue = await store.open();
      const other = await store.reopen(queue);
      await queue.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ type: 'job', payload: i })));
      const got: StreamEvent[] = [];
      let last: string | undefined;
      // Writes go on between the "restarts"; each run reads a few and stops (a break: the iterator's return()).
      for (let round = 0; round < 40 && got.length < 60; round += 1) {
        const [held] = await other.claim({ workerId: 'w', limit: 1 });
        if (held) await other.complete(held, round, 'w');
        let taken = 0;
        for await (const event of queue.events({ ...(last === undefined ? {} : { after: last }), follow: false })) {
          got.push(event);
          last = event.id;
          if ((taken += 1) === 3) break;
        }
      }
      const all = await drain(other);
      expect(all).toHaveLength(60);
      expect(got.map((e) => e.id)).toEqual(all.map((e) => e.id));
    });

    it('refuses a malformed `after` and an unknown type as bad input, at the call', async () => {
      const queue = await store.open();
      expect(() => queue.events({ after: 'nope' })).toThrow(expect.objectContaining({ code: 'bad-input' }));
      expect(() => queue.events({ types: ['heartbeat'] })).toThrow(expect.objectContaining({ code: 'bad-input' }));
    });
  });
});
