// The project's targets, each evaluated against this run's figures. A target whose section did
// not run is "not measured", never met.
import { ceilingOf } from './sections/ceiling.mjs';
import { TUNED_NODE_OPTIONS } from './sections/memory.mjs';
import { fmt, fmtRatio, ratio } from './stats.mjs';

export function cell(results, strategy, workers, batch, synchronous = 'NORMAL') {
  return results.throughput?.cells.find((c) => c.strategy === strategy && c.workers === workers && c.batch === batch && c.synchronous === synchronous);
}

function peer(results, name) {
  return results.peers?.results.find((r) => r.name === name);
}

/** The PostgreSQL section's row of this system, and the faster of its two peers (if both ran). */
export function postgresRows(results) {
  const row = (name) => results.postgres?.results.find((r) => r.name === name && Number.isFinite(r.jobsPerS));
  const peers = [row('pg-boss'), row('graphile-worker')];
  return {
    tasklock: row('tasklock postgres'),
    fasterPeer: peers.every(Boolean) ? peers.reduce((a, b) => (b.jobsPerS > a.jobsPerS ? b : a)) : undefined,
  };
}

const MB = 1e6;
/** Flat: the RSS at the end is within 10 % of the RSS at the early sample. */
export const FLAT_GROWTH = 0.1;

/** [{ id, target, figure, met }] with met = true | false | null (not measured). */
export function evaluateTargets(results) {
  const targets = [];
  const add = (id, target, measured, figure, met) => targets.push({ id, target, figure: measured ? figure() : 'not measured', met: measured ? met() : null });

  const b32 = cell(results, 'os', 4, 32);
  const b1 = cell(results, 'os', 4, 1);
  const one32 = cell(results, 'os', 1, 32);
  const one1 = cell(results, 'os', 1, 1);
  const none32 = cell(results, 'none', 4, 32);
  const full = cell(results, 'os', 4, 32, 'FULL');
  const k32 = ceilingOf(results.ceiling, 'full', 32);
  const plain = peer(results, 'plainjob');
  const tl = peer(results, 'tasklock');
  const tlFull = peer(results, 'tasklock FULL');
  const plainRatio = ratio(tl?.jobsPerS, plain?.jobsPerS);
  const plainFullRatio = ratio(tlFull?.jobsPerS, plain?.jobsPerS);
  add('vs-plainjob', '4 workers, os, batch 32, NORMAL: ≥ 3× plainjob (4 processes)', tl && plain && Number.isFinite(plainRatio), () => `${fmtRatio(plainRatio)} (${fmt(tl.jobsPerS)} / ${fmt(plain.jobsPerS)} jobs/s)`, () => plainRatio >= 3);
  add('vs-plainjob-full', '… at synchronous=FULL (the default): ≥ 2× plainjob (which runs NORMAL)', tlFull && plain && Number.isFinite(plainFullRatio), () => `${fmtRatio(plainFullRatio)} (${fmt(tlFull.jobsPerS)} / ${fmt(plain.jobsPerS)} jobs/s)`, () => plainFullRatio >= 2);
  add(
    'lock-cost-batched',
    'the lock costs ≤ 15 % at 4 processes: 4 workers os ≥ 0.85× 1 worker os, and ≥ 4 workers none (batch 32)',
    b32 && one32 && none32,
    () => `${fmtRatio(ratio(b32.tasksPerS, one32.tasksPerS))} of 1 worker (${fmt(b32.tasksPerS)} / ${fmt(one32.tasksPerS)}); ${fmtRatio(ratio(b32.tasksPerS, none32.tasksPerS))} of none (${fmt(none32.tasksPerS)})`,
    () => ratio(b32.tasksPerS, one32.tasksPerS) >= 0.85 && b32.tasksPerS >= none32.tasksPerS,
  );
  add('lock-cost-unbatched', '… batch 1: 4 workers os ≥ 0.7× 1 worker os', b1 && one1, () => `${fmtRatio(ratio(b1.tasksPerS, one1.tasksPerS))} (${fmt(b1.tasksPerS)} / ${fmt(one1.tasksPerS)})`, () => ratio(b1.tasksPerS, one1.tasksPerS) >= 0.7);
  add('one-worker-ceiling', '1 worker (os, batch 32) ≥ 0.85× the SQL ceiling of its own statements (K=32)', one32 && Number.isFinite(k32), () => `${fmtRatio(ratio(one32.tasksPerS, k32))} (${fmt(one32.tasksPerS)} / ${fmt(k32)})`, () => ratio(one32.tasksPerS, k32) >= 0.85);
  const w4 = [b32, b1].filter(Boolean);
  add('fairness', 'fairness ±25 % (4 workers, os)', w4.length > 0, () => `max deviation ${w4.map((c) => `${fmt(c.fairnessPct, 1)} % (B=${c.batch})`).join(', ')}`, () => w4.every((c) => c.fairnessPct <= 25));
  add('lock-p99', 'lock wait p99 ≤ 10 ms (4 workers, os)', w4.length > 0, () => w4.map((c) => `${fmt(c.lockWaitP99Ms, 1)} ms (B=${c.batch})`).join(', '), () => w4.every((c) => c.lockWaitP99Ms <= 10));
  add('lock-max', 'lock wait max ≤ 100 ms (4 workers, os)', w4.length > 0, () => w4.map((c) => `${fmt(c.lockWaitMaxMs, 1)} ms (B=${c.batch})`).join(', '), () => w4.every((c) => c.lockWaitMaxMs <= 100));
  const osCells = results.throughput?.cells.filter((c) => c.strategy === 'os') ?? [];
  add(
    'no-busy',
    'zero SQLITE_BUSY reaching the queue, also at FULL',
    full !== undefined,
    () => `${osCells.reduce((n, c) => n + c.failures + c.lockTimeouts, 0)} failed writes in all os runs (FULL: ${full.failures}); ${osCells.reduce((n, c) => n + c.busyRetries, 0)} BUSY retried inside`,
    () => osCells.every((c) => c.failures === 0 && c.lockTimeouts === 0),
  );
  const osHandover = results.lock?.handover.os;
  add('handover', 'os hand-over after SIGKILL ≤ 10 ms', osHandover, () => `median ${fmt(osHandover.medianKillMs, 0)} ms, max ${fmt(osHandover.maxKillMs, 0)} ms`, () => osHandover.maxKillMs <= 10);
  const recovery = results.recovery;
  add('recovery', "a dead worker's tasks running again within 1 s (same host)", recovery, () => `median ${fmt(recovery.medianLastMs, 0)} ms, max ${fmt(recovery.maxLastMs, 0)} ms`, () => recovery.maxLastMs <= 1000);
  const orphans = results.orphans;
  add('orphans', "a worker killed alone: its --exec handler processes gone within 100 ms", orphans, () => `median ${fmt(orphans.medianGoneMs, 1)} ms, max ${fmt(orphans.maxGoneMs, 1)} ms`, () => orphans.maxGoneMs <= 100);
  const bulk = results.bulk;
  add('bulk', 'bulk enqueue ≥ 200k tasks/s (synchronous=FULL)', bulk, () => `${fmt(bulk.tasklockPerS)} tasks/s`, () => bulk.tasklockPerS >= 200_000);
  const idle = results.idle;
  add('idle-cpu', 'idle worker CPU < 1 %', idle, () => `${fmt(idle.cpuPct.worker, 2)} %`, () => idle.cpuPct.worker < 1);
  add('latency', 'start latency p50 ≤ 5 ms (default synchronous=FULL)', idle, () => `${fmt(idle.latency.FULL.callToStartMs.p50, 0)} ms`, () => idle.latency.FULL.callToStartMs.p50 <= 5);
  const mem = results.memory;
  add('rss', 'worker RSS ≤ 100 MB with 64 concurrent tasks, Node\'s defaults', mem, () => `max ${fmt(mem.rssMax / MB, 1)} MB`, () => mem.rssMax <= 100 * MB);
  const tuned = mem?.tuned;
  add('rss-tuned', `… the same with \`NODE_OPTIONS=${TUNED_NODE_OPTIONS}\``, tuned, () => `max ${fmt(tuned.rssMax / MB, 1)} MB at ${fmt(tuned.tasksPerS)} tasks/s (untuned ${fmt(mem.tasksPerS)})`, () => tuned.rssMax <= 100 * MB);
  add(
    'rss-flat',
    `worker RSS flat (growth ≤ ${FLAT_GROWTH * 100} % from ${mem?.earlyS ?? 10} s to the end)`,
    mem,
    () => `${fmt(mem.rssEarly / MB, 1)} → ${fmt(mem.rssEnd / MB, 1)} MB (${mem.growthBytes >= 0 ? '+' : ''}${fmt((mem.growthBytes / mem.rssEarly) * 100, 1)} %) over ${mem.seconds} s`,
    () => mem.growthBytes <= FLAT_GROWTH * mem.rssEarly,
  );
  const pg = postgresRows(results);
  add(
    'pg-vs-peers',
    'PostgreSQL store, 4 processes: ≥ the faster of pg-boss and graphile-worker (jobs/s), 0 lost, 0 doubled',
    pg.tasklock && pg.fasterPeer,
    () => `${fmtRatio(ratio(pg.tasklock.jobsPerS, pg.fasterPeer.jobsPerS))} of ${pg.fasterPeer.name} (${fmt(pg.tasklock.jobsPerS)} / ${fmt(pg.fasterPeer.jobsPerS)} jobs/s); lost ${pg.tasklock.lost}, doubled ${pg.tasklock.doubled}`,
    () => pg.tasklock.jobsPerS >= pg.fasterPeer.jobsPerS && pg.tasklock.lost === 0 && pg.tasklock.doubled === 0,
  );
  const pgLatency = pg.tasklock?.latency;
  add('pg-latency', 'enqueue→start p50 ≤ 5 ms on PostgreSQL', pgLatency?.tasks > 0, () => `p50 ${fmt(pgLatency.p50, 0)} ms, p99 ${fmt(pgLatency.p99, 0)} ms`, () => pgLatency.p50 <= 5);
  const ev = results.events;
  add('events-cost', 'worker events cost ≤ 5 % (4 workers, os, batch 32: a listener on every event ≥ 0.95× none)', ev, () => `${fmtRatio(ev.ratio)} (${fmt(ev.withPerS)} / ${fmt(ev.withoutPerS)} tasks/s)`, () => ev.ratio >= 0.95);
  for (const store of ['sqlite', 'postgres']) {
    const r = results.results?.stores.find((s) => s.store === store);
    add(`result-latency-${store}`, `enqueue→result p50 ≤ 5 ms, waitFor, noop handler in another process (${store})`, r?.tasks > 0, () => `p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`, () => r.p50 <= 5);
  }
  return targets;
}

export function mark(met) {
  return met === null ? '— not measured' : met ? '✅ met' : '❌ missed';
}
