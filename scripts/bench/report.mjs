// Renders a run as markdown: a header (command, date, machine, load), one table per section with
// every figure beside its same-run baseline and, where the project has one, its target; then the
// targets in one list.
import { ceilingOf } from './sections/ceiling.mjs';
import { cell, evaluateTargets, FLAT_GROWTH, mark, postgresRows } from './targets.mjs';
import { fmt, fmtBytes, fmtRatio, median, ratio } from './stats.mjs';

const MB = 1e6;

export function renderMarkdown(run) {
  const { results } = run;
  const targets = evaluateTargets(results);
  const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
  const parts = [header(run)];
  if (results.lock) parts.push(lockTable(results.lock, byId));
  if (results.throughput) parts.push(throughputTable(results, byId));
  if (results.ceiling) parts.push(ceilingTable(results, byId));
  if (results.peers) parts.push(peersTable(results.peers, byId));
  if (results.bulk) parts.push(bulkTable(results.bulk, byId));
  if (results.idle) parts.push(idleTable(results.idle, byId));
  if (results.memory) parts.push(memoryTable(results.memory, byId));
  if (results.recovery) parts.push(recoveryTable(results.recovery, byId));
  if (results.orphans) parts.push(orphansTable(results.orphans, results.recovery, byId));
  if (results.postgres) parts.push(postgresTable(results, byId));
  if (results.events) parts.push(eventsTable(results.events, byId));
  if (results.results) parts.push(resultsTable(results.results, byId));
  parts.push(targetsTable(targets));
  parts.push(notes(run));
  return `${parts.join('\n\n')}\n`;
}

function table(headings, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headings), line(headings.map(() => '---')), ...rows.map(line)].join('\n');
}

function header(run) {
  const m = run.machine;
  const loads = Object.entries(run.load.sections).map(([name, load]) => `${name} ${load.toFixed(2)}`).join(', ');
  return [
    `Command: \`${run.command}\`${run.quick ? ' (quick smoke run: small N, not for quoting)' : ''}  `,
    `Date: ${run.date} · duration ${formatDuration(run.durationS)}${run.load.waitedS > 0 ? ` (after ${formatDuration(run.load.waitedS)} waiting for the load to drop)` : ''}  `,
    `Machine: ${m.nproc} × ${m.cpu} · Node ${m.node} · SQLite ${m.sqlite} (better-sqlite3 ${m.betterSqlite3})  `,
    `Load (1-min average; other processes share these cores): ${run.load.start.toFixed(2)} at start; at each section (this counts the benchmark's own processes of the minute before too): ${loads}`,
  ].join('\n');
}

function lockTable(lock, t) {
  const none = lock.uncontended.none.usPerPair;
  const rows = ['os', 'lockfile'].map((s) => {
    const us = lock.uncontended[s].usPerPair;
    return [`acquire + release, uncontended: ${s}`, `${fmt(us)} µs/pair`, `none: ${fmt(none)} µs/pair`, fmtRatio(ratio(us, none)), '', ''];
  });
  rows.push(['acquire + release, uncontended: none', `${fmt(none)} µs/pair`, '(the baseline)', '', '', '']);
  const f = lock.handover.os;
  rows.push([
    'waiter gets the lock after its holder is SIGKILLed: os',
    `median ${fmt(f.medianKillMs, 0)} ms, max ${fmt(f.maxKillMs, 0)} ms (${f.killMs.length} runs)`,
    `after a graceful release: median ${fmt(f.medianReleaseMs, 0)} ms`,
    f.medianReleaseMs > 0 ? fmtRatio(ratio(f.medianKillMs, f.medianReleaseMs)) : '— (baseline 0 ms at 1 ms resolution)',
    '≤ 10 ms',
    mark(t.handover.met),
  ]);
  const l = lock.handover.lockfile;
  rows.push([
    `… lockfile (staleMs ${lock.staleMs})`,
    `median ${fmt(l.medianKillMs / 1000, 2)} s, max ${fmt(l.maxKillMs / 1000, 2)} s (${l.killMs.length} runs)`,
    `after a graceful release: median ${fmt(l.medianReleaseMs, 0)} ms`,
    l.medianReleaseMs > 0 ? fmtRatio(ratio(l.medianKillMs, l.medianReleaseMs)) : '—',
    '(≈ staleMs by design)',
    '',
  ]);
  rows.push(['… none', 'n/a: no exclusion between processes, nothing to hand over', '', '', '', '']);
  return `### 1. Lock cost (${lock.pairs} pairs per round, median round)\n\n${table(['measurement', 'value', 'baseline (same run)', 'ratio', 'target', ''], rows)}`;
}

function throughputTable(results, t) {
  const cells = results.throughput.cells;
  const rows = cells.map((c) => {
    const k = ceilingOf(results.ceiling, 'full', c.batch);
    const targets = [];
    const flag = (id, text) => targets.push(`${text} ${t[id].met === null ? '—' : t[id].met ? '✅' : '❌'}`);
    if (c.strategy === 'os' && c.workers === 1 && c.batch === 32) flag('one-worker-ceiling', '≥ 0.85× ceiling');
    if (c.strategy === 'os' && c.workers === 4 && c.synchronous === 'NORMAL') {
      if (c.batch === 32) flag('lock-cost-batched', '≥ 0.85× 1 worker, ≥ none');
      else flag('lock-cost-unbatched', '≥ 0.7× 1 worker');
      targets.push(`±25 % ${c.fairnessPct <= 25 ? '✅' : '❌'}`, `p99 ≤ 10 ms ${c.lockWaitP99Ms <= 10 ? '✅' : '❌'}`, `max ≤ 100 ms ${c.lockWaitMaxMs <= 100 ? '✅' : '❌'}`);
    }
    if (c.strategy === 'os') targets.push(`no BUSY failure ${c.failures === 0 && c.lockTimeouts === 0 ? '✅' : '❌'}`);
    if (c.notSucceeded > 0) targets.push(`⚠ ${c.notSucceeded} task(s) not succeeded`);
    return [
      c.strategy,
      c.workers,
      c.batch,
      c.synchronous,
      `${fmt(c.n)} × ${c.reps}`,
      fmt(c.tasksPerS),
      Number.isFinite(k) ? `${fmtRatio(ratio(c.tasksPerS, k))} of ${fmt(k)}` : '—',
      c.workers > 1 ? `${fmt(c.fairnessPct, 1)} %` : '—',
      `${fmt(c.lockWaitP99Ms, 1)} / ${fmt(c.lockWaitMaxMs, 1)}`,
      fmt(c.lockHoldP99Ms, 1),
      `${c.busyRetries} / ${c.failures + c.lockTimeouts}`,
      targets.join(' · '),
    ];
  });
  return (
    '### 2. Throughput matrix (noop tasks, concurrency 64 per worker)\n\n' +
    table(['lock', 'workers', 'batch', 'synchronous', 'N × reps', 'tasks/s (median)', 'vs ceiling full K=batch', 'fairness: max deviation', 'lock wait p99 / max, ms (worst worker)', 'lock hold p99, ms', 'BUSY retried / failed', 'targets'], rows)
  );
}

function ceilingTable(results, t) {
  const { ceiling } = results;
  // Each variant against the next simpler one: full ÷ bare ÷ minimal.
  const label = {
    full: 'claim + run rows; complete + run rows + finish count',
    bare: 'bare: claim UPDATE; complete UPDATE',
    minimal: 'minimal: the same two UPDATEs on a 3-column table, one partial index',
  };
  const simpler = { full: 'bare', bare: 'minimal' };
  const rows = ceiling.variants.map((v) => {
    const base = simpler[v.variant];
    const baseRate = base ? ceilingOf(ceiling, base, v.k) : NaN;
    return [
      label[v.variant] ?? v.variant,
      v.k,
      `${fmt(v.n)} × ${v.reps}`,
      fmt(v.tasksPerS),
      base ? `${base} K=${v.k}: ${fmt(baseRate)}` : '(the baseline)',
      base ? fmtRatio(ratio(v.tasksPerS, baseRate)) : '',
      '',
      '',
    ];
  });
  const one32 = cell(results, 'os', 1, 32);
  const one1 = cell(results, 'os', 1, 1);
  const k32 = ceilingOf(ceiling, 'full', 32);
  const k1 = ceilingOf(ceiling, 'full', 1);
  rows.push(['tasklock, 1 worker, os, batch 32', '32', one32 ? `${fmt(one32.n)} × ${one32.reps}` : '', one32 ? fmt(one32.tasksPerS) : 'not run', `ceiling full K=32: ${fmt(k32)}`, fmtRatio(ratio(one32?.tasksPerS, k32)), '≥ 0.85×', mark(t['one-worker-ceiling'].met)]);
  rows.push(['tasklock, 1 worker, os, batch 1', '1', one1 ? `${fmt(one1.n)} × ${one1.reps}` : '', one1 ? fmt(one1.tasksPerS) : 'not run', `ceiling full K=1: ${fmt(k1)}`, fmtRatio(ratio(one1?.tasksPerS, k1)), '', '']);
  return (
    '### 3. Ceiling: tasklock\'s claim + complete SQL, one process, raw better-sqlite3, no lock, no queue logic (synchronous=NORMAL)\n\n' +
    `${table(['variant', 'K (tasks per transaction pair)', 'N × reps', 'tasks/s (median)', 'baseline (same run)', 'ratio', 'target', ''], rows)}\n\n` +
    'The statements are the ones the store prepares, imported from @tasklock/core/sqlite (HOT_PATH_SQL).'
  );
}

function peersTable(peers, t) {
  const plainjob = peers.results.find((r) => r.name === 'plainjob');
  const target = { tasklock: ['≥ 3×', 'vs-plainjob'], 'tasklock FULL': ['≥ 2×', 'vs-plainjob-full'] };
  const rows = peers.results.map((r) => {
    const failed = r.error !== undefined;
    const [goal, id] = target[r.name] ?? ['', null];
    return [
      r.name,
      r.setup,
      `${fmt(r.n)} × ${r.reps}`,
      failed ? `cannot run here: ${r.error}` : fmt(r.jobsPerS),
      r === plainjob ? '(the baseline)' : failed ? '—' : fmtRatio(ratio(r.jobsPerS, plainjob?.jobsPerS)),
      failed ? '—' : r.lost,
      failed ? '—' : r.doubled,
      goal,
      id === null ? '' : mark(t[id].met),
    ];
  });
  return `### 4. Peers (${peers.processes} processes, the same ${fmt(peers.n)} noop jobs, handler appends its job id to a per-process file; median of ${peers.reps})\n\n${table(['queue', 'setup', 'N × reps', 'jobs/s (median)', 'this ÷ plainjob', 'lost', 'doubled', 'target', ''], rows)}`;
}

function bulkTable(bulk, t) {
  const rows = [
    [`enqueueMany of ${fmt(bulk.n)} tasks, one transaction`, fmt(bulk.tasklockPerS), `raw INSERT of the same task rows (the store's statement): ${fmt(bulk.rawTasksPerS)}`, fmtRatio(ratio(bulk.tasklockPerS, bulk.rawTasksPerS)), '≥ 200k tasks/s', mark(t.bulk.met)],
  ];
  return `### 5. Bulk enqueue (synchronous=FULL, median of ${bulk.reps})\n\n${table(['measurement', 'tasks/s', 'baseline (same run)', 'ratio', 'target', ''], rows)}`;
}

function idleTable(idle, t) {
  const lat = (l) => `p50 ${fmt(l.p50, 0)} ms, p99 ${fmt(l.p99, 0)} ms`;
  const rows = [
    [`CPU of an idle worker over ${idle.idleSeconds} s (utime + stime / wall)`, `${fmt(idle.cpuPct.worker, 2)} % of one core`, `bare Node process with a 250 ms timer: ${fmt(idle.cpuPct.bare, 2)} %`, '— (1 tick = 10 ms)', '< 1 %', mark(t['idle-cpu'].met)],
  ];
  for (const [sync, l] of Object.entries(idle.latency)) {
    rows.push([
      `enqueue() called → handler started, ${l.tasks} single tasks, enqueuer synchronous=${sync}${sync === 'FULL' ? ' (default)' : ''}`,
      lat(l.callToStartMs),
      `fs.watch on -wal hears the commit's first write: ${lat(l.floorMs)}`,
      fmtRatio(ratio(l.callToStartMs.p50, Math.max(l.floorMs.p50, 1))),
      sync === 'FULL' ? 'p50 ≤ 5 ms' : '',
      sync === 'FULL' ? mark(t.latency.met) : '',
    ]);
  }
  return `### 6. Idle worker (os, concurrency 64)\n\n${table(['measurement', 'value', 'baseline (same run)', 'ratio (p50)', 'target', ''], rows)}`;
}

function memoryTable(mem, t) {
  const growthPct = (mem.growthBytes / mem.rssEarly) * 100;
  const rows = [
    ['worker RSS with the queue open, before any task', `${fmt(mem.rssOpened / MB, 1)} MB`, '(the baseline)', '', '', ''],
    [
      `worker RSS at ${mem.earlyS} s → at ${mem.seconds} s of draining`,
      `${fmt(mem.rssEarly / MB, 1)} → ${fmt(mem.rssEnd / MB, 1)} MB (max ${fmt(mem.rssMax / MB, 1)} MB)`,
      `before any task: ${fmt(mem.rssOpened / MB, 1)} MB`,
      fmtRatio(ratio(mem.rssMax, mem.rssOpened)),
      '≤ 100 MB',
      mark(t.rss.met),
    ],
    [
      `growth from ${mem.earlyS} s to ${mem.seconds} s`,
      `${mem.growthBytes >= 0 ? '+' : ''}${fmt(mem.growthBytes / MB, 1)} MB (${growthPct >= 0 ? '+' : ''}${fmt(growthPct, 1)} %)`,
      `RSS at ${mem.earlyS} s`,
      fmtRatio(ratio(mem.rssEnd, mem.rssEarly)),
      `flat (≤ ${FLAT_GROWTH * 100} %)`,
      mark(t['rss-flat'].met),
    ],
    ['largest <db>-wal seen', fmtBytes(mem.walMaxBytes), `wal_autocheckpoint 1000 pages × 4 KiB = ${fmtBytes(mem.walBoundBytes)}`, fmtRatio(ratio(mem.walMaxBytes, mem.walBoundBytes)), '', ''],
    ['tasks drained meanwhile', `${fmt(mem.succeeded)} (${fmt(mem.tasksPerS)} tasks/s)`, '', '', '', ''],
  ];
  const tuned = mem.tuned;
  if (tuned) {
    rows.push(
      [
        `tuned: \`NODE_OPTIONS=${tuned.nodeOptions}\`, worker RSS at ${tuned.earlyS} s → at ${tuned.seconds} s`,
        `${fmt(tuned.rssEarly / MB, 1)} → ${fmt(tuned.rssEnd / MB, 1)} MB (max ${fmt(tuned.rssMax / MB, 1)} MB)`,
        `untuned max: ${fmt(mem.rssMax / MB, 1)} MB`,
        fmtRatio(ratio(tuned.rssMax, mem.rssMax)),
        '≤ 100 MB',
        mark(t['rss-tuned'].met),
      ],
      ['tuned: tasks drained meanwhile', `${fmt(tuned.succeeded)} (${fmt(tuned.tasksPerS)} tasks/s)`, `untuned: ${fmt(mem.tasksPerS)} tasks/s`, fmtRatio(ratio(tuned.tasksPerS, mem.tasksPerS)), '', ''],
    );
  }
  return (
    `### 7. Memory: one worker, concurrency 64, a continuous stream of noop tasks for ${mem.seconds} s (synchronous=NORMAL)\n\n` +
    `${table(['measurement', 'value', 'baseline (same run)', 'ratio', 'target', ''], rows)}\n\n` +
    'The 10-minute flatness check: `node scripts/bench.mjs --only memory --memory-seconds 600`.'
  );
}

function recoveryTable(rec, t) {
  const rows = [
    [
      `all ${rec.tasks} running tasks of a SIGKILLed worker started again on an idle worker of the same host`,
      `median ${fmt(rec.medianLastMs, 0)} ms, max ${fmt(rec.maxLastMs, 0)} ms (${rec.runs.length} runs)`,
      `the lease, which expiry alone would wait: ${fmt(rec.leaseMs, 0)} ms`,
      fmtRatio(ratio(rec.maxLastMs, rec.leaseMs)),
      '≤ 1 s',
      mark(t.recovery.met),
    ],
    ['… the first of them', `median ${fmt(median(rec.runs.map((r) => r.firstMs)), 0)} ms`, `reclaim sweep every ${fmt(rec.sweepMs, 0)} ms; killed just after one (the worst phase)`, '', '', ''],
  ];
  return `### 8. Recovery from a dead worker (os, default lease and sweep)\n\n${table(['measurement', 'value', 'reference', 'ratio', 'target', ''], rows)}`;
}

function orphansTable(orph, rec, t) {
  const rows = [
    [
      `every process of the ${orph.tasks} commands (each with a grandchild, all ignoring SIGTERM) of a worker SIGKILLed by its pid alone gone`,
      `median ${fmt(orph.medianGoneMs, 1)} ms, max ${fmt(orph.maxGoneMs, 1)} ms (${orph.runs.length} runs)`,
      'no sweep involved: the supervisor\'s pipe from the dead worker closes',
      '',
      '≤ 100 ms',
      mark(t.orphans.met),
    ],
    [
      `all ${orph.tasks} tasks started again on an idle --exec worker of the same host`,
      `median ${fmt(orph.medianRestartMs, 0)} ms, max ${fmt(orph.maxRestartMs, 0)} ms`,
      rec ? `section 8, in-process handlers: median ${fmt(rec.medianLastMs, 0)} ms` : 'section 8 not run',
      rec ? fmtRatio(ratio(orph.medianRestartMs, rec.medianLastMs)) : '',
      '',
      '',
    ],
  ];
  return `### 9. Handler processes of a worker killed alone (worker --exec, os, default lease and sweep)\n\n${table(['measurement', 'value', 'reference', 'ratio', 'target', ''], rows)}`;
}

function postgresTable(results, t) {
  const pg = results.postgres;
  const { fasterPeer } = postgresRows(results);
  const rows = pg.results.map((r) => {
    const failed = r.error !== undefined;
    const isStore = r.name === 'tasklock postgres';
    const lat = r.latency;
    return [
      r.name,
      r.version,
      r.setup,
      `${fmt(r.n)} × ${r.reps}`,
      failed ? `cannot run here: ${r.error}` : fmt(r.jobsPerS),
      failed || !fasterPeer ? '—' : r === fasterPeer ? '(the baseline)' : fmtRatio(ratio(r.jobsPerS, fasterPeer.jobsPerS)),
      failed ? '—' : r.lost,
      failed ? '—' : r.doubled,
      lat.tasks > 0 ? `${fmt(lat.p50, 0)} / ${fmt(lat.p99, 0)} ms (${lat.tasks} jobs)` : 'not measured',
      isStore ? `≥ faster peer, 0 lost, 0 doubled ${mark(t['pg-vs-peers'].met)} · p50 ≤ 5 ms ${mark(t['pg-latency'].met)}` : '',
    ];
  });
  const settings = Object.entries(pg.server.settings).map(([name, value]) => `${name}=${value}`).join(', ');
  return (
    `### 10. PostgreSQL: tasklock's PostgreSQL store beside its SQLite store, pg-boss and graphile-worker (${pg.processes} worker processes each, the same ${fmt(pg.n)} noop jobs enqueued in bulk; median of ${pg.reps})\n\n` +
    `${table(['system', 'version', 'options', 'N × reps', 'jobs/s (median)', 'this ÷ the faster peer', 'lost', 'doubled', 'enqueue→start p50 / p99', 'target'], rows)}\n\n` +
    `One private PostgreSQL ${pg.server.version} for all (unix socket; fsync, synchronous_commit and full_page_writes on, the defaults; ${settings}), a fresh database per run; the SQLite store's file is on the same disk. ` +
    'jobs/s = N ÷ ("go" → drained): tasklock\'s workers stop by themselves once nothing is due or running (their shutdown is inside the time); the peers have no such mode, so the bench asks their database every 20 ms how many jobs are unfinished (their shutdown is outside). ' +
    'Latency: single jobs enqueued by another process one at a time into 4 idle workers, enqueue() called → handler started. ' +
    'The driver choice (`pg` over `postgres`): `node scripts/bench/drivers.mjs`.'
  );
}

function eventsTable(ev, t) {
  const rows = [
    [
      `${ev.workers} workers, ${ev.strategy}, batch ${ev.batch}, ${ev.synchronous}: a listener on every event (${fmt(ev.eventsPerTask, 2)} events per task)`,
      `${fmt(ev.withPerS)} tasks/s (${ev.withAll.map((x) => fmt(x)).join(', ')})`,
      `no listener: ${fmt(ev.withoutPerS)} tasks/s (${ev.withoutAll.map((x) => fmt(x)).join(', ')})`,
      fmtRatio(ev.ratio),
      'events cost ≤ 5 %',
      mark(t['events-cost'].met),
    ],
  ];
  return `### 11. Cost of worker events (${fmt(ev.n)} noop tasks, concurrency 64 per worker, median of ${ev.reps} pairs run alternately)\n\n${table(['measurement', 'with listeners', 'baseline (same run)', 'ratio', 'target', ''], rows)}`;
}

function resultsTable(r, t) {
  const rows = r.stores.map((s) => [s.store, s.tasks, `${fmt(s.p50, 1)} ms`, `${fmt(s.p99, 1)} ms`, `${fmt(s.max, 1)} ms`, `p50 ≤ 5 ms ${mark(t[`result-latency-${s.store}`].met)}`]);
  return (
    `### 12. Enqueue → result: queue.waitFor, the noop handler in another process (one idle worker, concurrency 8)\n\n` +
    `${table(['store', 'tasks', 'p50', 'p99', 'max', 'target'], rows)}\n\n` +
    `A producer process enqueues one task at a time, ${r.pacingMs[0]}–${r.pacingMs[1]} ms apart, and times enqueue() called → waitFor() resolved with the succeeded task. ` +
    'SQLite at its default synchronous=FULL; PostgreSQL on the bench\'s private server (fsync on). The worker is woken by the change signal for due tasks, the producer by the one for ends (WAL watch; LISTEN/NOTIFY).'
  );
}

function targetsTable(targets) {
  return `### Targets\n\n${table(['target', 'this run', ''], targets.map((x) => [x.target, x.figure, mark(x.met)]))}`;
}

function notes(run) {
  return [
    'How to read this: every figure is from this run on this machine, shown beside a baseline measured in the same run; nothing is a timed pass/fail.',
    'tasks/s = N ÷ (the "go" sent to all workers → the last worker process exited), so it includes each worker\'s registration, first reclaim sweep and shutdown.',
    'Lock wait p99/max come from each worker\'s own histogram (`writeMetrics().lockWaitMs`, log-spaced buckets: p99 is a bucket bound); the table shows the worst worker of the worst repetition. "BUSY retried" counts SQLITE_BUSY retried inside the write path; "failed" counts writes that reached the queue as errors (BUSY after all retries, lock timeouts).',
    'The throughput matrix is compared with the ceiling at synchronous=NORMAL, the FULL row included (compare it with the os / 4 / 32 / NORMAL row).',
    'With `none`, writers wait inside SQLite\'s busy handler (busy_timeout) within BEGIN IMMEDIATE, which the metrics count as lock hold, not lock wait.',
    run.quick ? 'Quick run: N is small, so start-up dominates and the figures are only a smoke test.' : '',
  ].filter(Boolean).map((line) => `- ${line}`).join('\n');
}

function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}
