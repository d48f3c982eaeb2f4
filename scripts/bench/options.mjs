// Command line and workload sizes. `--quick` is a smoke run (≲ 1 min); the default run is sized
// for ≲ 10 min on a 2-core machine.

export const SECTIONS = ['lock', 'throughput', 'ceiling', 'peers', 'bulk', 'idle', 'memory', 'recovery', 'orphans', 'postgres', 'events', 'results'];

const USAGE = `usage: node scripts/bench.mjs [--quick] [--only ${SECTIONS.join(',')}] [--json FILE]
                             [--write-readme] [--memory-seconds S] [--max-load L] [--load-wait S]`;

const FULL = {
  lockPairs: 2000,
  lockRounds: 3,
  osHandovers: 10,
  lockfileHandovers: 3,
  throughputReps: 3,
  // Events section: pairs (without, with listeners) of the 4 workers / os / batch 32 run.
  eventsReps: 5,
  // Tasks per run, by lock strategy and batch: sized for a few seconds per run on 2 cores.
  throughputN: { os: { 1: 5000, 32: 20_000 }, none: { 1: 5000, 32: 20_000 }, lockfile: { 1: 1000, 32: 5000 } },
  ceilingN: { 1: 5000, 32: 20_000 },
  ceilingReps: 3,
  peersN: 10_000,
  peersReps: 3,
  bulkN: 10_000,
  bulkReps: 5,
  idleSeconds: 5,
  latencyTasks: 50,
  memorySeconds: 60,
  recoveryReps: 5,
  // PostgreSQL section: jobs per throughput run (pg-boss drains ~512/s: ~20 s of each repetition),
  // repetitions, and latency probes per repetition and system.
  pgN: 10_000,
  pgReps: 3,
  pgLatencyTasks: 20,
  // Results section: enqueue → result round trips per store.
  resultsTasks: 200,
};

const QUICK = {
  lockPairs: 500,
  lockRounds: 1,
  osHandovers: 3,
  lockfileHandovers: 1,
  throughputReps: 1,
  eventsReps: 2,
  throughputN: { os: { 1: 1000, 32: 4000 }, none: { 1: 1000, 32: 4000 }, lockfile: { 1: 200, 32: 1000 } },
  ceilingN: { 1: 1000, 32: 4000 },
  ceilingReps: 1,
  peersN: 2000,
  peersReps: 1,
  bulkN: 10_000,
  bulkReps: 1,
  idleSeconds: 2,
  latencyTasks: 10,
  memorySeconds: 10,
  recoveryReps: 1,
  pgN: 2000,
  pgReps: 1,
  pgLatencyTasks: 10,
  resultsTasks: 30,
};

export function parseOptions(argv) {
  const options = { quick: false, json: null, only: null, writeReadme: false, memorySeconds: null, maxLoad: 0.8, loadWait: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) fail(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case '--quick': options.quick = true; break;
      case '--json': options.json = value(); break;
      case '--only': options.only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--write-readme': options.writeReadme = true; break;
      case '--memory-seconds': options.memorySeconds = positive(arg, value()); break;
      case '--max-load': options.maxLoad = positive(arg, value()); break;
      case '--load-wait': options.loadWait = Number(value()); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: fail(`unknown option ${arg}`);
    }
  }
  for (const name of options.only ?? []) if (!SECTIONS.includes(name)) fail(`unknown section ${name} (one of ${SECTIONS.join(', ')})`);
  const sizes = { ...(options.quick ? QUICK : FULL) };
  if (options.memorySeconds !== null) sizes.memorySeconds = options.memorySeconds;
  options.sizes = sizes;
  // A quick run is a smoke test: it notes the load but does not wait for a quiet machine.
  options.loadWait ??= options.quick ? 0 : 300;
  options.sections = sectionsToRun(options.only);
  return options;
}

/** The throughput matrix is reported against the ceiling, so asking for it brings the ceiling along. */
function sectionsToRun(only) {
  if (only === null) return [...SECTIONS];
  const wanted = new Set(only);
  if (wanted.has('throughput')) wanted.add('ceiling');
  return SECTIONS.filter((s) => wanted.has(s));
}

function positive(name, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) fail(`${name} must be a positive number, got ${text}`);
  return n;
}

function fail(message) {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}
