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
  const reports: BatchReports = { progress: [], counts: [] };
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.report === undefined || typeof statuses[i] !== 'string') continue;
    addReport(reports, outcome.lease.id, outcome.report);
  }
  return reports;
}

export function addReport(reports: BatchReports, id: number, report: AttemptReport): void {
  if (report.progress !== null) reports.progress.push([id, report.progress]);
  for (const { name, delta } of report.counts) reports.counts.push([id, name, delta]);
}

export function reportsOf(id: number, report: AttemptReport): BatchReports {
  const reports: BatchReports = { progress: [], counts: [] };
  addReport(reports, id, report);
  return reports;
}
