/**
 * `tasklock stats --watch`: a sample of the store's monitor (queue.monitor()) every interval. On a terminal
 * the screen is redrawn in place; piped, each sample is one plain line (one JSON object per line
 * with --json), so a log or `grep` keeps every one. SIGINT (Ctrl-C) or SIGTERM ends it with exit 0.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { STATUS_VIEWS, type MonitorSample, type Queue } from '@tasklock/core';
import { formatDuration } from './duration.js';
import { formatTable, iso, paintStatus, printLine, terminalWidth, useColour } from './output.js';

export interface WatchOptions {
  intervalMs: number;
  json: boolean;
}

const CLEAR_AND_HOME = '\x1b[H\x1b[2J';

export async function watchStats(queue: Queue, options: WatchOptions): Promise<void> {
  const monitor = queue.monitor();
  const screen = !options.json && process.stdout.isTTY === true;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`| head -3`) ends the view too, whoever handles the write error.
  process.stdout.on('close', onSignal);
  try {
    while (!stop.signal.aborted && !process.stdout.destroyed) {
      const sample = await monitor.sample();
      if (options.json) printLine(JSON.stringify(sampleJson(sample)));
      else if (screen) printLine(`${CLEAR_AND_HOME}${drawScreen(sample, queue.describe().location, options.intervalMs)}`);
      else printLine(plainLine(sample));
      await delay(options.intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('close', onSignal);
  }
}

function sampleJson(sample: MonitorSample) {
  return { ...sample, at: iso(sample.at) };
}

function rate(sample: MonitorSample): string {
  return sample.finishedPerSecond === null ? '-' : `${sample.finishedPerSecond.toFixed(1)} tasks/s`;
}

function age(ms: number): string {
  return ms === 0 ? '-' : formatDuration(ms);
}

function plainLine(sample: MonitorSample): string {
  const counts = STATUS_VIEWS.map((status) => `${status} ${sample.counts[status]}`).join(', ');
  const workers = Object.entries(sample.runningByWorker).map(([worker, count]) => `${worker}=${count}`);
  const failures = sample.failuresLastMinute;
  return [
    `${iso(sample.at)} ${counts}`,
    rate(sample),
    `oldest due ${age(sample.oldestDueAgeMs)}`,
    `failures last minute ${failures.attempts} (${failures.final} final)`,
    `running by worker ${workers.length === 0 ? '-' : workers.join(' ')}`,
  ].join('; ');
}

function drawScreen(sample: MonitorSample, path: string, intervalMs: number): string {
  const colour = useColour(false);
  const width = terminalWidth();
  const paint = colour ? (text: string, status: string) => paintStatus(text, status) : (text: string) => text;
  const failures = sample.failuresLastMinute;
  const lines = [
    `tasklock stats --watch  ${path}  ${iso(sample.at)}  every ${formatDuration(intervalMs)}  (Ctrl-C to quit)`,
    '',
    STATUS_VIEWS.map((status) => paint(`${status} ${sample.counts[status]}`, status)).join('   '),
    `throughput   ${rate(sample)} (succeeded or failed, over the last interval)`,
    `oldest due   ${age(sample.oldestDueAgeMs)}`,
    `failures     ${failures.attempts} failed attempt(s) in the last minute, ${failures.final} of them final`,
  ];
  const types = Object.entries(sample.byType).sort(([a], [b]) => a.localeCompare(b));
  if (types.length > 0) {
    lines.push(
      '',
      formatTable(
        ['TYPE', ...STATUS_VIEWS.map((status) => status.toUpperCase())],
        types.map(([type, counts]) => [type, ...STATUS_VIEWS.map((status) => counts[status])]),
        { width },
      ),
    );
  }
  const workers = Object.entries(sample.runningByWorker).sort(([a], [b]) => a.localeCompare(b));
  lines.push('', workers.length === 0 ? 'no task running' : formatTable(['WORKER', 'RUNNING'], workers, { width }));
  // Each line cut to the terminal: a wrapped line would scroll the redraw off its home position.
  const text = lines.join('\n');
  return width === undefined ? text : text.split('\n').map((line) => cut(line, width)).join('\n');
}

/** A line cut to `width` visible characters (a cut coloured line loses its colour). */
function cut(line: string, width: number): string {
  const visible = line.replace(/\x1b\[[0-9;]*m/g, '');
  return visible.length <= width ? line : `${visible.slice(0, width - 1)}…`;
}
