#!/usr/bin/env node
// tasklock's benchmark suite (`pnpm bench`): lock cost, the throughput matrix, the SQL ceiling,
// peers, bulk enqueue, the idle worker, memory, recovery from a dead worker, the handler
// processes of a worker killed alone and the PostgreSQL store beside pg-boss and graphile-worker
// (on a private PostgreSQL server the bench starts) and the cost of worker events, each figure
// beside a baseline measured in the same run. Every SQLite database lives in its own temp dir and
// is touched only by child processes (scripts/bench/children/); this process spawns them, samples
// /proc and stat(), and reports. On PostgreSQL it also creates the databases and asks the peers'
// whether they are drained.
//   node scripts/bench.mjs [--quick] [--only lock,throughput,…,postgres,events] [--json FILE] [--write-readme]
//                          [--memory-seconds S] [--max-load L] [--load-wait S]
import { writeFileSync } from 'node:fs';
import { load1, machineInfo, waitForQuietMachine } from './bench/machine.mjs';
import { parseOptions } from './bench/options.mjs';
import { cleanup, installCleanup } from './bench/proc.mjs';
import { writeReadme } from './bench/readme.mjs';
import { renderMarkdown } from './bench/report.mjs';
import { runBulk } from './bench/sections/bulk.mjs';
import { runCeiling } from './bench/sections/ceiling.mjs';
import { runIdle } from './bench/sections/idle.mjs';
import { runLock } from './bench/sections/lock.mjs';
import { runMemory } from './bench/sections/memory.mjs';
import { runOrphans } from './bench/sections/orphans.mjs';
import { runRecovery } from './bench/sections/recovery.mjs';
import { runResults } from './bench/sections/results.mjs';
import { runPeers } from './bench/sections/peers.mjs';
import { runPostgres } from './bench/sections/postgres.mjs';
import { runThroughput } from './bench/sections/throughput.mjs';
import { runEvents } from './bench/sections/events.mjs';
import { evaluateTargets } from './bench/targets.mjs';

// In run order: the ceiling before the matrix that is reported against it; the rest in report order.
const RUNNERS = { lock: runLock, ceiling: runCeiling, throughput: runThroughput, peers: runPeers, bulk: runBulk, idle: runIdle, memory: runMemory, recovery: runRecovery, orphans: runOrphans, postgres: runPostgres, events: runEvents, results: runResults };

const options = parseOptions(process.argv.slice(2));
installCleanup();
const log = (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const quiet = await waitForQuietMachine(options.maxLoad, options.loadWait, log);
const started = performance.now();
const run = {
  command: ['node scripts/bench.mjs', ...process.argv.slice(2)].join(' '),
  date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
  quick: options.quick,
  machine: machineInfo(),
  sizes: options.sizes,
  load: { start: quiet.load, waitedS: quiet.waitedS, sections: {} },
  sectionSeconds: {},
  results: {},
};

try {
  for (const [name, runner] of Object.entries(RUNNERS)) {
    if (!options.sections.includes(name)) continue;
    run.load.sections[name] = load1();
    log(`${name}: starting (load ${run.load.sections[name].toFixed(2)})`);
    const sectionStarted = performance.now();
    run.results[name] = await runner({ sizes: options.sizes, log });
    run.sectionSeconds[name] = (performance.now() - sectionStarted) / 1000;
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  cleanup();
  process.exit(1);
}
run.durationS = (performance.now() - started) / 1000;

const markdown = renderMarkdown(run);
process.stdout.write(markdown);
if (options.json) {
  writeFileSync(options.json, `${JSON.stringify({ ...run, targets: evaluateTargets(run.results) }, null, 2)}\n`);
  log(`wrote ${options.json}`);
}
if (options.writeReadme) log(`wrote ${writeReadme(markdown)}`);
log(`done in ${Math.round(run.durationS)} s`);
