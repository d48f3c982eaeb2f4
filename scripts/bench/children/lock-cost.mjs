// Uncontended WriteLock acquire+release pairs, per strategy, in one process. Rounds alternate
// between the strategies (after one warm-up round each) so that outside load spreads evenly.
import { join } from 'node:path';
import { WriteLock } from '@tasklock/core/sqlite';
import { config, exit, send } from './protocol.mjs';

const { dir, pairs, rounds, strategies } = config;
const locks = Object.fromEntries(
  strategies.map((strategy) => [strategy, WriteLock.open(join(dir, `uncontended-${strategy}.db`), { strategy, required: true, staleMs: 10_000 })]),
);

async function round(lock) {
  const started = performance.now();
  for (let i = 0; i < pairs; i += 1) {
    await lock.acquire(5000);
    await lock.release();
  }
  return ((performance.now() - started) * 1000) / pairs;
}

const usPerPair = Object.fromEntries(strategies.map((s) => [s, []]));
for (const strategy of strategies) await round(locks[strategy]); // JIT, first mkdir / open
for (let r = 0; r < rounds; r += 1) {
  for (const strategy of strategies) usPerPair[strategy].push(await round(locks[strategy]));
}
for (const lock of Object.values(locks)) lock.close();
send('result', { usPerPair });
exit(0);
