// Who ran what, for the sections that set queues side by side: each worker process's handler
// appends the id of every job it starts to a file of its own; the ids seen are checked against
// the ids enqueued (missing = lost, seen twice = doubled), and repetitions fold into one row.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './stats.mjs';

/** One id file per worker process: <dir>/<name>-<i>.ids. */
export function idLogs(dir, name, processes) {
  return Array.from({ length: processes }, (_, i) => join(dir, `${name}-${i + 1}.ids`));
}

/** Lost = enqueued but never handled; doubled = handled more than once. */
export function accounting(enqueued, logs) {
  const seen = new Map();
  for (const file of logs) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line !== '') seen.set(line, (seen.get(line) ?? 0) + 1);
    }
  }
  const handled = [...seen.values()].reduce((a, b) => a + b, 0);
  if (enqueued === null) return { handled, lost: NaN, doubled: NaN };
  const ids = new Set(enqueued.map(String));
  return {
    handled,
    lost: [...ids].filter((id) => !seen.has(id)).length,
    doubled: [...seen.values()].filter((count) => count > 1).length,
    unknown: [...seen.keys()].filter((id) => !ids.has(id)).length,
  };
}

/** One row per queue: the median jobs/s; lost, doubled, unknown and handler errors summed; a failure's reason kept. */
export function summarize(results) {
  const ok = results.filter((r) => r.error === undefined);
  const total = (key) => results.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  return {
    ...results[0],
    reps: results.length,
    jobsPerS: ok.length > 0 ? median(ok.map((r) => r.jobsPerS)) : NaN,
    jobsPerSAll: results.map((r) => r.jobsPerS),
    lost: total('lost'),
    doubled: total('doubled'),
    unknown: total('unknown'),
    handlerErrors: total('handlerErrors'),
    error: results.find((r) => r.error !== undefined)?.error,
  };
}

/** Collects results by name, in first-seen order: record(result) per run, rows() one summary per name. */
export function resultsByName() {
  const runs = new Map();
  return {
    record: (result) => runs.set(result.name, [...(runs.get(result.name) ?? []), result]),
    rows: () => [...runs.values()].map(summarize),
  };
}

/** The error's first line and the packages on its stack, innermost first: enough to say why. */
export function briefError(error) {
  const text = error instanceof Error ? error.message : String(error);
  const crash = /crashed: (.*)/.exec(text)?.[1] ?? text.split('\n')[0];
  const frames = [...text.matchAll(/at (\S+) \(.*?node_modules\/\.pnpm\/([^/]+)\//g)].map(([, fn, dir]) => ({ fn, pkg: dir.split('_')[0] }));
  const chain = [];
  for (const { fn, pkg } of frames) {
    if (chain.at(-1)?.pkg !== pkg) chain.push({ pkg, fn });
  }
  return chain.length === 0 ? crash : `${crash} (${chain.map(({ pkg, fn }) => `${pkg} ${fn}`).join(' ← ')})`;
}
