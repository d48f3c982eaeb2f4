// Section 1, lock cost: uncontended acquire+release per strategy, and how long a waiting process
// needs to get the lock after its holder is SIGKILLed (baseline: after a graceful release).
import { join } from 'node:path';
import { Child, makeTempDir, removeTempDir, runChild, sleep } from '../proc.mjs';
import { median } from '../stats.mjs';

const STALE_MS = 2000;

export async function runLock({ sizes, log }) {
  const dir = makeTempDir('lock');
  try {
    log(`lock: ${sizes.lockPairs} uncontended pairs × ${sizes.lockRounds} rounds per strategy`);
    const { usPerPair } = await runChild('lock-cost.mjs', {
      dir,
      pairs: sizes.lockPairs,
      rounds: sizes.lockRounds,
      strategies: ['none', 'os', 'lockfile'],
    });
    const uncontended = Object.fromEntries(Object.entries(usPerPair).map(([s, rounds]) => [s, { usPerPair: median(rounds), rounds }]));

    const handover = {};
    for (const strategy of ['os', 'lockfile']) {
      const reps = strategy === 'os' ? sizes.osHandovers : sizes.lockfileHandovers;
      const kill = [];
      const release = [];
      for (let i = 0; i < reps; i += 1) {
        kill.push(await handoverOnce(join(dir, `kill-${strategy}-${i}.db`), strategy, 'kill'));
        release.push(await handoverOnce(join(dir, `release-${strategy}-${i}.db`), strategy, 'release'));
      }
      handover[strategy] = { killMs: kill, releaseMs: release, medianKillMs: median(kill), maxKillMs: Math.max(...kill), medianReleaseMs: median(release) };
      log(`lock: ${strategy} hand-over after SIGKILL ${kill.join(', ')} ms; after release ${release.join(', ')} ms`);
    }
    return { uncontended, handover, staleMs: STALE_MS, pairs: sizes.lockPairs };
  } finally {
    removeTempDir(dir);
  }
}

/** Holder takes the lock, a waiter blocks on it, the holder is killed (or releases): ms until the waiter holds it. */
async function handoverOnce(db, strategy, how) {
  const holder = new Child('lock-holder.mjs', { db, strategy, staleMs: STALE_MS }, { name: `${strategy} holder` });
  const waiter = { child: null };
  try {
    await holder.next('held', 20_000);
    waiter.child = new Child('lock-waiter.mjs', { db, strategy, staleMs: STALE_MS, timeoutMs: 60_000 }, { name: `${strategy} waiter` });
    await waiter.child.next('waiting', 20_000);
    await sleep(300); // let the waiter get into acquire() and block there
    let from;
    if (how === 'kill') {
      from = Date.now();
      holder.kill('SIGKILL');
    } else {
      holder.send('release');
      from = (await holder.next('released', 10_000)).at;
    }
    const { at } = await waiter.child.next('acquired', 60_000);
    await waiter.child.done(10_000);
    return at - from;
  } finally {
    holder.kill();
    waiter.child?.kill();
  }
}
