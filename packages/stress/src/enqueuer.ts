#!/usr/bin/env node
/**
 * An enqueuer process: adds `count` tasks in random batches (1–50 per transaction) while the
 * workers drain, and appends every id it was given to `idsFile` only after its transaction
 * committed — the checker's list of what must exist at the end. With `spreadMs` > 0 the tasks
 * are spread evenly over that long (a --duration run keeps the workers busy throughout).
 * usage: enqueuer.js <db> <lock> <count> <seed> <idsFile> [spreadMs]
 */
import { appendFileSync } from 'node:fs';
import { backoffMs, Queue, TasklockError, type EnqueueItem } from '@tasklock/core';
import { Random } from './random.js';
import { SHELL_QUEUE } from './shell-handler.js';

/** A failed enqueue is sent again after 20 ms, doubling, up to 1 s. */
const RETRY_BACKOFF = { baseDelayMs: 20, maxDelayMs: 1000, jitter: false };

const [db, lock, countArg, seedArg, idsFile, spreadArg = '0'] = process.argv.slice(2) as [string, string, string, string, string, string?];
const spreadMs = Number(spreadArg);
const total = Number(countArg);
const began = Date.now();
const random = new Random(Number(seedArg));
const queue = await Queue.open(db, { sqlite: { lock: lock as 'auto', synchronous: 'NORMAL' } });
let left = Number(countArg);
try {
  while (left > 0) {
    const size = Math.min(left, random.int(1, 50));
    const items: EnqueueItem[] = Array.from({ length: size }, () => item(random));
    const tasks = await enqueueRetrying(items);
    appendFileSync(idsFile, tasks.map((t) => `${t.id}\n`).join(''));
    left -= size;
    const dueAt = spreadMs > 0 ? began + ((total - left) / total) * spreadMs : Date.now() + (random.next() < 0.3 ? random.int(0, 5) : 0);
    if (dueAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueAt - Date.now()));
  }
} finally {
  queue.close();
}

/**
 * A producer's duty under faults: a failed enqueue (disk full, BUSY after retries) wrote
 * nothing, so the same batch is simply sent again, with backoff, for up to a minute.
 */
async function enqueueRetrying(items: EnqueueItem[]) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await queue.enqueueMany(items);
    } catch (error) {
      const retryable = error instanceof TasklockError && (error.code === 'persistence' || error.code === 'lock-timeout');
      if (!retryable || attempt >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs(RETRY_BACKOFF, attempt)));
    }
  }
}

function item(random: Random): EnqueueItem {
  const roll = random.next();
  if (roll < 0.05) return { type: 'shell', queue: SHELL_QUEUE, payload: { kind: 'shell' } };
  if (roll < 0.7) return { type: 'ok', payload: { kind: 'ok' }, priority: random.int(0, 3) };
  if (roll < 0.85) return { type: 'slow', payload: { kind: 'slow', ms: random.int(5, 30) } };
  if (roll < 0.97) return { type: 'flaky', payload: { kind: 'flaky' }, backoff: { baseMs: 20 } };
  return { type: 'doomed', payload: { kind: 'doomed' }, maxAttempts: 2, backoff: { baseMs: 20 } };
}
