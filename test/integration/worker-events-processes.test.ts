/**
 * Worker events across processes, on both stores: a worker process (fixture event-worker.mjs)
 * prints each event it is told as NDJSON while this process, another client of the same store,
 * enqueues work and cancels a running task. Each event must match what the store then holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { startFixture } from '../utils/fixture-process.js';
import { cleanupProcessStores, PROCESS_STORES } from '../utils/process-stores.js';
import { until } from '../utils/until.js';

afterEach(cleanupProcessStores);

interface PrintedEvent {
  event: string;
  id?: number;
  attempt?: number;
  [field: string]: unknown;
}

describe('worker events across processes', () => {
  for (const store of PROCESS_STORES) {
    it(`${store.name}: a worker process tells each outcome, the cancel from another process and the hand-back at stop`, async () => {
      const db = await store.db();
      const queue = await Queue.open(db);
      try {
        const worker = startFixture('event-worker.mjs', [JSON.stringify({ db })]);
        await worker.waitForLine(/^started /);
        await worker.waitForLine(/"event":"drained"/);
        const [ok, flaky, doomed, cancelled, held] = await queue.enqueueMany([
          { type: 'ok', payload: { n: 1 } },
          { type: 'flaky', payload: 'f', backoff: { baseMs: 1 } },
          { type: 'doomed', payload: 'd', maxAttempts: 1 },
          { type: 'hold', payload: 'cancel me' },
          { type: 'hold', payload: 'hand me back' },
        ]);
        const line = (event: string, id: number) => new RegExp(`^\\{"event":"${event}","id":${id},`);
        await worker.waitForLine(line('claimed', cancelled!.id));
        await queue.cancel(cancelled!.id, 'from another process');
        await worker.waitForLine(line('lease-lost', cancelled!.id));
        // The rest settled, in whatever order they ran (waitForLine only reads on from its last match).
        for (const [event, id] of [['claimed', held!.id], ['completed', ok!.id], ['failed', doomed!.id], ['completed', flaky!.id]] as const) {
          await until(`${event} ${id}`, async () => worker.lines.some((text) => line(event, id).test(text)));
        }
        worker.kill('SIGTERM');
        const exit = await worker.succeeded();

        const events = exit.lines.filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as PrintedEvent);
        const of = (id: number) => events.filter((event) => event.id === id).map((event) => `${event.event} ${event.attempt}`);
        expect(of(ok!.id)).toEqual(['claimed 1', 'completed 1']);
        expect(of(flaky!.id)).toEqual(['claimed 1', 'retrying 1', 'claimed 2', 'completed 2']);
        expect(of(doomed!.id)).toEqual(['claimed 1', 'failed 1']);
        expect(of(cancelled!.id)).toEqual(['claimed 1', 'lease-lost 1']);
        expect(of(held!.id)).toEqual(['claimed 1', 'released 1']);
        expect(events.filter((event) => event.event === 'error')).toEqual([]);

        const completed = events.find((event) => event.event === 'completed' && event.id === ok!.id)!;
        expect(completed).toMatchObject({ type: 'ok', payload: { n: 1 }, result: { by: worker.pid } });
        expect(events.find((event) => event.event === 'failed')!.error).toMatch(/^Error: always fails\n/);
        expect(events.find((event) => event.event === 'lease-lost')!.reason).toMatch(/cancel/);
        // What the events said is what the store holds.
        expect((await queue.get(ok!.id)).result).toEqual({ by: worker.pid });
        expect((await queue.get(flaky!.id)).status).toBe('succeeded');
        expect((await queue.get(doomed!.id)).status).toBe('failed');
        expect((await queue.get(cancelled!.id)).status).toBe('cancelled');
        expect((await queue.get(held!.id)).status).toBe('pending');
      } finally {
        queue.close();
      }
    });
  }
});
