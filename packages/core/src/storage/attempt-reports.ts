/**
 * The reports (ctx.progress, ctx.count) that ride on a batch of outcomes, gathered for the
 * outcomes the batch accepted: a refused outcome's report is dropped with it, since the attempt
 * it came from no longer holds the task. Both stores write what this gathers with one statement
 * per kind for the whole batch, and none when the batch carries no report (the hot path).
 */
import type { TasklockError } from '../errors.js';
import type { TaskStatus } from '../task-state.js';
import type { AttemptReport, FinishInput } from './store.js';

/** [task id, progress JSON text] and [task id, counter name, delta], each task once. */
export interface BatchReports {
  progress: [number, string][];
  counts: [number, string, number][];
}

export function acceptedReports(outcomes: readonly FinishInput[], statuses: readonly (TaskStatus | TasklockError)[]): BatchReports {
  const progress = new Map<number, string>();
  const counts = new Map<string, [number, string, number]>();
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.report === undefined || typeof statuses[i] !== 'string') continue;
    gather(progress, counts, outcome.lease.id, outcome.report);
  }
  return { progress: [...progress], counts: [...counts.values()] };
}

export function reportsOf(id: number, report: AttemptReport): BatchReports {
  const progress = new Map<number, string>();
  const counts = new Map<string, [number, string, number]>();
  gather(progress, counts, id, report);
  return { progress: [...progress], counts: [...counts.values()] };
}

/** Each (task, name) once, summed: PostgreSQL's upsert refuses to touch a row twice in one statement. */
function gather(progress: Map<number, string>, counts: Map<string, [number, string, number]>, id: number, report: AttemptReport): void {
  if (report.progress !== null) progress.set(id, report.progress);
  for (const { name, delta } of report.counts) {
    const key = `${id}\0${name}`;
    const row = counts.get(key);
    if (row) row[2] += delta;
    else counts.set(key, [id, name, delta]);
  }
}
