/**
 * The stores the conformance suite runs against. Every suite file in test/conformance/ is
 * written once against the queue API and runs for each entry here, as River runs one driver
 * suite against each of its drivers: a new store (PostgreSQL) joins the suite by adding one
 * entry to STORES, and nothing else.
 *
 * A suite file never reaches under the queue (no SQL, no `sqliteOf`): what needs the engine
 * itself is a test of that store, under test/integration/.
 */
import { afterEach, describe } from 'vitest';
import { Queue, type QueueOptions } from '@tasklock/core';
import { closeQueues, openTempQueue, reopen } from '../utils/lifecycle.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { removeTempDirs } from '../utils/temp-dir.js';

/** The queue's own options (store-neutral); each store supplies its engine's options itself. */
export type ConformanceQueueOptions = Pick<QueueOptions, 'maxPayloadBytes' | 'maxResultBytes'>;

export interface StoreUnderTest {
  /** The engine as `queue.describe().engine` names it; the suite's describe blocks say "<name> store". */
  readonly name: string;
  /** A queue on a fresh, empty store of this kind. */
  open(options?: ConformanceQueueOptions): Promise<Queue>;
  /** A second queue on the same store as `queue`: another connection/handle, as another process would have. */
  reopen(queue: Queue): Promise<Queue>;
  /** Closes every queue open() and reopen() made, and removes what they stored (run after each test). */
  cleanup(): void | Promise<void>;
}

const sqlite: StoreUnderTest = {
  name: 'sqlite',
  open: (options = {}) => openTempQueue(options),
  reopen: (queue) => reopen(queue),
  cleanup() {
    closeQueues();
    removeTempDirs();
  },
};

/** Each test's queues on PostgreSQL, with the database each one is on. */
const pgQueues = new Map<Queue, string>();

const postgres: StoreUnderTest = {
  name: 'postgres',
  async open(options = {}) {
    const url = await makePgDatabase();
    const queue = await Queue.open(url, options);
    pgQueues.set(queue, url);
    return queue;
  },
  async reopen(queue) {
    const url = pgQueues.get(queue);
    if (url === undefined) throw new Error('reopen: not a queue this store opened');
    const other = await Queue.open(url);
    pgQueues.set(other, url);
    return other;
  },
  async cleanup() {
    for (const queue of pgQueues.keys()) queue.close();
    pgQueues.clear();
    await dropPgDatabases();
  },
};

export const STORES: readonly StoreUnderTest[] = [sqlite, postgres];

/** Runs `suite` once per store, inside `describe('<name> store')`, cleaning up after each test. */
export function forEachStore(suite: (store: StoreUnderTest) => void): void {
  for (const store of STORES) {
    describe(`${store.name} store`, () => {
      afterEach(() => store.cleanup());
      suite(store);
    });
  }
}

/**
 * Waits until the wall clock has passed `at` (a lease's expiry, a retry's run_at): waiting for
 * time, not for another party. Bounded: a time further away than `boundMs` is a broken test.
 */
export async function untilPast(at: number, what: string, boundMs = 10_000): Promise<void> {
  const away = at - Date.now();
  if (away > boundMs) throw new Error(`${what} is ${away} ms away, beyond the ${boundMs} ms a test waits for the clock`);
  while (Date.now() <= at) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, at - Date.now() + 1)));
  }
}
