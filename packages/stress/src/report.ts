import type { StressReport } from './harness.js';
import { isPostgres } from './run-database.js';

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;

/** The human report: invariants first (PASS/FAIL), then the measurements. */
export function formatReport(report: StressReport): string {
  const lines = [
    `tasklock-stress: seed ${report.seed}, ${report.writers} writers + ${report.shellWorkers} shell workers, ${report.tasks} tasks, lock ${report.lock}, ${(report.elapsedMs / 1000).toFixed(1)} s`,
    `database ${report.db}`,
    '',
    'invariants',
    ...report.check.invariants.map((i) => `  ${i.status.padEnd(4)}  ${i.name} — ${i.detail}`),
    '',
    'faults',
    ...faultLines(report),
    '',
    'measurements',
    row('tasks', Object.entries(report.check.facts.counts).map(([k, v]) => `${k} ${v}`).join(', ')),
    row('throughput', `${report.throughput.claimedPerS.toFixed(0)} claimed/s, ${report.throughput.completedPerS.toFixed(0)} completed/s`),
    row('enqueue → start', `p50 ${ms(report.latencyMs.enqueueToStartP50)}, p99 ${ms(report.latencyMs.enqueueToStartP99)}`),
    row('lock wait', `p50 ${ms(report.lock_.waitP50)}, p99 ${ms(report.lock_.waitP99)}, max ${ms(report.lock_.waitMax)} (worst worker of ${report.lock_.fromWorkers} that exited cleanly)`),
    row('lock hold', `p50 ${ms(report.lock_.holdP50)}, p99 ${ms(report.lock_.holdP99)}`),
    row('BUSY retries', String(report.lock_.busyRetries)),
    row('kills', `${report.kills} SIGKILLs (${report.groupKills} of the whole process group), ${report.check.facts.reclaimed} leases reclaimed, worst reclaim ${report.check.facts.worstRecoveryMs} ms after a kill`),
    row('executions', `${report.check.facts.executions} (${report.check.facts.extraExecutions} on lost leases); ${report.check.facts.shellExecutions} shell commands, ${report.check.facts.shellReruns} re-run after a lost attempt`),
    ...orphanLines(report),
    row('store outages', outageLine(report)),
    ...(isPostgres(report.db) ? [] : [row('WAL peak', mb(report.walPeakBytes))]),
    row('worker RSS peak', mb(report.workerPeakRssBytes)),
    row('worker exits', unexpectedExitLine(report)),
    '',
    report.passed ? 'PASS: every invariant held' : 'FAIL: an invariant was violated',
  ];
  return lines.join('\n');
}

/** One line per fault kind: how often it was injected (or why it was skipped) and the last instance. */
function faultLines(report: StressReport): string[] {
  if (report.faults.length === 0) return ['  none'];
  const kinds = [...new Set(report.faults.map((f) => f.fault))];
  return kinds.map((kind) => {
    const all = report.faults.filter((f) => f.fault === kind);
    const ran = all.filter((f) => !f.skipped);
    const skipped = all.filter((f) => f.skipped);
    if (ran.length === 0) return `  ${kind.padEnd(10)} SKIPPED: ${skipped[0]!.skipped}`;
    const alsoSkipped = skipped.length === 0 ? '' : ` (${skipped.length} skipped: ${skipped.at(-1)!.skipped})`;
    return `  ${kind.padEnd(10)} ×${ran.length}, last: ${ran.at(-1)!.detail}${alsoSkipped}`;
  });
}

function unexpectedExitLine(report: StressReport): string {
  const exits = report.unexpectedExits;
  if (exits.length === 0) return 'none but the kills and the final stop';
  const last = exits.at(-1)!;
  const how = last.signal ? `signal ${last.signal}` : `code ${last.exitCode}`;
  return `${exits.length} on their own, each replaced; last ${last.id} (${how}): ${last.lastError}`;
}

function outageLine(report: StressReport): string {
  const { outages, retries, fromWorkers, logged } = report.storeOutages;
  return `${logged.began} logged as begun and ${logged.ended} as over, by ${logged.workers} workers (a killed one may not live to see the end); the ${fromWorkers} that stopped cleanly rode out ${outages} (${retries} calls retried)`;
}

function row(name: string, value: string): string {
  return `  ${name.padEnd(16)} ${value}`;
}

/** How long the handler groups of workers SIGKILLed alone took to die (the orphans fault). */
function orphanLines(report: StressReport): string[] {
  const figures = report.faults.flatMap((f) => (f.goneMs === undefined ? [] : [f.goneMs])).sort((a, b) => a - b);
  if (figures.length === 0) return [];
  const median = figures[Math.floor(figures.length / 2)]!;
  return [row('orphans gone', `median ${ms(median)}, max ${ms(figures.at(-1)!)} after a worker's pid-only SIGKILL (${figures.length} kills)`)];
}
