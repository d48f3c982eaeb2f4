import { readFileSync } from 'node:fs';

/** One line of the side-effect log: "<task> <attempt> <pid>" (in-process) or "… start|tick|end <epoch ms>" (shell). */
export interface Effect {
  task: number;
  attempt: number;
  /** null: an in-process handler's single line; else a shell command's start, tick or end. */
  what: string | null;
  at: number;
}

export function readEffects(file: string): Effect[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [task, attempt, , what, at] = line.split(' ');
    return { task: Number(task), attempt: Number(attempt), what: what ?? null, at: Number(at ?? 0) };
  });
}

/**
 * Per task, the shell executions in attempt order: each must have left its last trace before
 * the next one started. A command that outlived its attempt keeps ticking (every ~20 ms), so an
 * overlap longer than a tick shows as a trace after the next start.
 */
export function checkOverlap(effects: Effect[]): { errors: string[]; executions: number; reruns: number; closestGapMs: number } {
  const byTask = new Map<number, Map<number, { start: number; last: number }>>();
  for (const e of effects) {
    if (e.what === null) continue;
    const attempts = byTask.get(e.task) ?? new Map<number, { start: number; last: number }>();
    byTask.set(e.task, attempts);
    const span = attempts.get(e.attempt) ?? { start: Number.POSITIVE_INFINITY, last: 0 };
    if (e.what === 'start') span.start = Math.min(span.start, e.at);
    span.last = Math.max(span.last, e.at);
    attempts.set(e.attempt, span);
  }
  const errors: string[] = [];
  let executions = 0;
  let reruns = 0;
  let closestGapMs = Number.POSITIVE_INFINITY;
  for (const [task, attempts] of byTask) {
    const spans = [...attempts.entries()].sort(([a], [b]) => a - b);
    executions += spans.length;
    for (let i = 1; i < spans.length; i += 1) {
      const [prevAttempt, prev] = spans[i - 1]!;
      const [attempt, next] = spans[i]!;
      reruns += 1;
      closestGapMs = Math.min(closestGapMs, next.start - prev.last);
      if (prev.last >= next.start) errors.push(`task ${task}: attempt ${prevAttempt} still ran ${prev.last - next.start} ms after attempt ${attempt} started`);
    }
  }
  return { errors, executions, reruns, closestGapMs };
}
