import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../../packages/core/src/attempt-abort.js';
import { LeaseKeeper, type RunningAttempt } from '../../packages/core/src/lease-keeper.js';
import type { Queue } from '../../packages/core/src/queue.js';
import { StoreOutage } from '../../packages/core/src/store-outage.js';
import type { ClaimedTask } from '../../packages/core/src/task.js';

/**
 * On a server store the worker's own writes commit while its heartbeat is in flight: the
 * heartbeat's answer can miss a task claimed, or ended, in between. Neither lease is lost.
 */
function attempt(id: number): RunningAttempt {
  return { task: { id, leaseToken: `t:${id}` } as ClaimedTask, abort: new AttemptAbort(), lost: null, finishing: false, settled: Promise.resolve(), reporter: null };
}

/** A queue whose heartbeat answers `held`, after `during` ran (what committed while it was in flight). */
function queueAnswering(held: number[], during: () => void, statusOf: Record<number, string>): Queue {
  return {
    async heartbeatWorker() {
      await Promise.resolve();
      during();
      return new Map(held.map((id) => [id, `t:${id}`]));
    },
    async get(id: number) {
      return { status: statusOf[id] };
    },
  } as unknown as Queue;
}

const settings = { id: 'w1', leaseMs: 30_000, log: () => undefined };

describe('LeaseKeeper.beat', () => {
  it('judges only the attempts running when the heartbeat was sent: one claimed meanwhile is not lost', async () => {
    const running = new Map([[1, attempt(1)]]);
    const lost: number[] = [];
    const keeper = new LeaseKeeper(queueAnswering([1], () => running.set(2, attempt(2)), { 2: 'running' }), settings, new StoreOutage(() => undefined), (a) => lost.push(a.task.id));
    await keeper.beat(running);
    expect(lost).toEqual([]);
    expect(running.get(2)!.lost).toBeNull();
  });

  it('an attempt whose outcome is with the finisher is left to the finisher; one that is not is lost', async () => {
    const running = new Map([
      [1, attempt(1)],
      [2, attempt(2)],
      [3, attempt(3)],
    ]);
    running.get(2)!.finishing = true;
    const lost: [number, string][] = [];
    const keeper = new LeaseKeeper(queueAnswering([1], () => undefined, { 2: 'succeeded', 3: 'cancelled' }), settings, new StoreOutage(() => undefined), (a, reason) => lost.push([a.task.id, reason]));
    await keeper.beat(running);
    expect(lost).toEqual([[3, 'task was cancelled']]);
  });
});
