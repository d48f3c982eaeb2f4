/**
 * Everything commands print. Results go to stdout: one JSON document with --json, otherwise
 * plain lines and aligned tables. Logs and errors go to stderr, so `--json | jq` always works.
 */
import type { Task, TaskEventRow, TaskRunRow, WorkerRow } from '@tasklock/core';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export type Cell = string | number | null | undefined;

/** Columns padded to their widest cell; the last column is never padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers, ...rows].map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  return text
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function printTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  printLine(formatTable(headers, rows));
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** One line, at most `max` characters: for table cells holding errors and payloads. */
export function clip(text: string | null, max = 60): string | null {
  if (text === null) return null;
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** A task as --json prints it: the API's Task with times as ISO strings. */
export function taskJson(task: Task) {
  return {
    id: task.id,
    type: task.type,
    queue: task.queue,
    status: task.status,
    priority: task.priority,
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    releasedAttempts: task.releasedAttempts,
    runAt: iso(task.runAt),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    finishedAt: iso(task.finishedAt),
    payload: task.payload,
    result: task.result,
    lastError: task.lastError,
    progress: task.progress,
    backoff: task.backoff,
    uniqueKey: task.uniqueKey,
    timeoutMs: task.timeoutMs,
    leaseExpiresAt: iso(task.leaseExpiresAt),
    lockedBy: task.lockedBy,
  };
}

export function runJson(run: TaskRunRow) {
  return {
    attempt: run.attempt,
    workerId: run.worker_id,
    startedAt: iso(run.started_at),
    finishedAt: iso(run.finished_at),
    outcome: run.outcome,
    error: run.error,
    handler: run.handler_pgid === null ? null : { pgid: run.handler_pgid, start: run.handler_start, host: run.handler_host },
  };
}

export function eventJson(event: TaskEventRow) {
  return {
    id: event.id,
    at: iso(event.at),
    transition: event.transition,
    from: event.from_status,
    to: event.to_status,
    attempt: event.attempt,
    workerId: event.worker_id,
    detail: event.detail,
  };
}

export function workerJson(worker: WorkerRow & { alive: boolean | null }) {
  return {
    id: worker.id,
    pid: worker.pid,
    host: worker.host,
    queue: worker.queue,
    types: worker.types === null ? null : (JSON.parse(worker.types) as string[]),
    startedAt: iso(worker.started_at),
    lastSeen: iso(worker.last_seen),
    stoppedAt: iso(worker.stopped_at),
    crashedAt: iso(worker.crashed_at),
    crashedBy: worker.crashed_by,
    alive: worker.alive,
    state: workerState(worker),
  };
}

/**
 * live | stopped (shut down gracefully) | crashed (found dead by a recovery sweep) | dead (gone,
 * not yet found by a sweep) | unknown (another host: only its heartbeat tells).
 */
export function workerState(worker: Pick<WorkerRow, 'stopped_at' | 'crashed_at'> & { alive: boolean | null }): string {
  if (worker.stopped_at !== null) return 'stopped';
  if (worker.crashed_at !== null) return 'crashed';
  if (worker.alive === null) return 'unknown';
  return worker.alive ? 'live' : 'dead';
}
