import { existsSync, readFileSync } from 'node:fs';
import { OUTAGE_BACKOFF } from '@tasklock/core';
import { checkOverlap, readEffects } from './overlap.js';
import { openRunDatabase } from './run-database.js';

export interface Invariant {
  name: string;
  status: 'PASS' | 'FAIL' | 'N/A';
  detail: string;
}

export interface CheckInput {
  db: string;
  idsFiles: string[];
  effectsFile: string;
  auditFile: string;
  lockStrategy: string;
  /** Whether the store has a tasklock lock for the in-lock audit to watch (SQLite); PostgreSQL's writers use row locks. */
  audited: boolean;
  /** worker id → when the harness SIGKILLed it */
  kills: Map<string, number>;
  /** how long after its owner's death a task may still be running */
  recoveryBoundMs: number;
  /** When faults stalled every writer (faults.ts STALLING_FAULTS): the bound stretches by the part of them a reclaim waited through. */
  stalls: { from: number; to: number }[];
}

export interface CheckResult {
  invariants: Invariant[];
  facts: {
    tasks: number;
    executions: number;
    extraExecutions: number;
    reclaimed: number;
    worstRecoveryMs: number;
    /** Shell (--exec) executions, and how many ran again after an attempt that did not finish. */
    shellExecutions: number;
    shellReruns: number;
    counts: Record<string, number>;
  };
}

interface Row { id: number; status: string; attempts: number }
interface RunRow { task_id: number; attempt: number; outcome: string; lease_token: string }
interface EventRow { task_id: number; transition: string; from_status: string | null; to_status: string; attempt: number; worker_id: string | null; at: number }

/**
 * How long the writers were stalled between a kill and its reclaim: the overlap of that window
 * with each stalling fault, counted until the outage backoff a worker may still be sleeping when
 * the fault is lifted has run out.
 */
function stalledMs(stalls: { from: number; to: number }[], from: number, to: number): number {
  let ms = 0;
  for (const stall of stalls) ms += Math.max(0, Math.min(to, stall.to + OUTAGE_BACKOFF.maxDelayMs) - Math.max(from, stall.from));
  return ms;
}

/**
 * Verifies a finished run from the database and the side-effect log alone: nothing the workers
 * said about themselves is trusted. The same reading on either engine (run-database.ts).
 */
export async function checkRun(input: CheckInput): Promise<CheckResult> {
  const db = await openRunDatabase(input.db);
  try {
    const invariants: Invariant[] = [];
    const add = (name: string, failures: string[], ok: string) =>
      invariants.push({ name, status: failures.length === 0 ? 'PASS' : 'FAIL', detail: failures.length === 0 ? ok : `${failures.length} problem(s): ${failures.slice(0, 5).join('; ')}` });

    // 1. the database itself
    const consistency = await db.consistency();
    add(`1 ${consistency.name}`, consistency.problems, 'ok');

    // 2. every enqueued task exists exactly once, in one terminal state
    const tasks = await db.all<Row>('SELECT id, status, attempts FROM tasks');
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const enqueued = input.idsFiles.flatMap((file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []));
    const missing = enqueued.filter((id) => !byId.has(id));
    const duplicated = enqueued.length - new Set(enqueued).size;
    const unexpected = tasks.length - new Set(enqueued).size;
    const notTerminal = tasks.filter((t) => !['succeeded', 'failed', 'cancelled'].includes(t.status));
    add('2 every enqueued task exists once, in a terminal state', [
      ...missing.slice(0, 3).map((id) => `task ${id} lost`),
      ...(duplicated > 0 ? [`${duplicated} ids handed out twice`] : []),
      ...(unexpected !== 0 ? [`${unexpected} tasks in the database that no enqueuer recorded`] : []),
      ...notTerminal.slice(0, 3).map((t) => `task ${t.id} is ${t.status}`),
    ], `${enqueued.length} enqueued, ${tasks.length} in the database, all terminal`);

    // 3. nothing running without a live lease; dead owners' tasks reclaimed within the bound
    // The log as the queue reads it: stored events and the claims derived from runs, in each task's order.
    const events = await db.all<EventRow>('SELECT task_id, transition, from_status, to_status, attempt, worker_id, at FROM task_event_log ORDER BY task_id, attempt, rank, id');
    const [runningNow] = await db.all<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'running' AND lease_expires_at <= ${Date.now()}`);
    let worstRecoveryMs = 0;
    const slow: string[] = [];
    for (const event of events) {
      if (event.transition !== 'reclaim' || event.worker_id === null) continue;
      const killedAt = input.kills.get(event.worker_id);
      if (killedAt === undefined) continue;
      const took = event.at - killedAt;
      worstRecoveryMs = Math.max(worstRecoveryMs, took);
      const allowed = input.recoveryBoundMs + stalledMs(input.stalls, killedAt, event.at);
      if (took > allowed) slow.push(`task ${event.task_id} of killed ${event.worker_id} reclaimed after ${took} ms (bound ${allowed} ms)`);
    }
    add('3 no task running without a live lease; dead owners reclaimed in time', [
      ...(runningNow!.n > 0 ? [`${runningNow!.n} running tasks with expired leases`] : []),
      ...slow,
    ], `worst reclaim after a kill ${worstRecoveryMs} ms (bound ${input.recoveryBoundMs} ms, plus any stalling fault it waited through)`);

    // 4. events replay to the status; attempts = runs
    const replayed = new Map<number, string | null>();
    const replayErrors: string[] = [];
    for (const event of events) {
      const at = replayed.get(event.task_id) ?? null;
      if (event.from_status !== at) replayErrors.push(`task ${event.task_id}: ${event.transition} from ${event.from_status} but log at ${at}`);
      replayed.set(event.task_id, event.to_status);
    }
    const runs = await db.all<RunRow>('SELECT task_id, attempt, outcome, lease_token FROM task_runs ORDER BY task_id, attempt');
    const runsByTask = new Map<number, RunRow[]>();
    for (const run of runs) runsByTask.set(run.task_id, [...(runsByTask.get(run.task_id) ?? []), run]);
    for (const task of tasks) {
      if (replayed.get(task.id) !== task.status) replayErrors.push(`task ${task.id}: log replays to ${replayed.get(task.id)}, row says ${task.status}`);
      const count = runsByTask.get(task.id)?.length ?? 0;
      if (count !== task.attempts) replayErrors.push(`task ${task.id}: attempts ${task.attempts} but ${count} runs`);
    }
    add('4 events replay to every status; attempts = runs', replayErrors, `${events.length} events, ${runs.length} runs`);

    // 5. fencing: a success is the task's last attempt, recorded once
    const fenceErrors: string[] = [];
    const completesByTask = new Map<number, number[]>();
    for (const e of events) if (e.transition === 'complete') completesByTask.set(e.task_id, [...(completesByTask.get(e.task_id) ?? []), e.attempt]);
    for (const task of tasks.filter((t) => t.status === 'succeeded')) {
      const taskRuns = runsByTask.get(task.id) ?? [];
      const successes = taskRuns.filter((r) => r.outcome === 'succeeded');
      if (successes.length !== 1) fenceErrors.push(`task ${task.id}: ${successes.length} successful runs`);
      else if (successes[0]!.attempt !== task.attempts) fenceErrors.push(`task ${task.id}: success from attempt ${successes[0]!.attempt}, latest is ${task.attempts}`);
      const completes = completesByTask.get(task.id) ?? [];
      if (completes.length !== 1 || completes[0] !== task.attempts) fenceErrors.push(`task ${task.id}: completion events for attempts ${completes.join(',')}`);
    }
    add('5 no completion accepted from a stale lease', fenceErrors, 'every success is the latest attempt, once');

    // 6. side effects: each finished attempt executed; extra executions explained by a lost lease
    const effects = readEffects(input.effectsFile);
    const executions = effects.filter((e) => e.what === null || e.what === 'start').map((e) => `${e.task}:${e.attempt}`);
    const executed = new Set(executions);
    const effectErrors: string[] = [];
    let extra = 0;
    for (const run of runs) {
      const key = `${run.task_id}:${run.attempt}`;
      if (['succeeded', 'retry', 'failed'].includes(run.outcome) && !executed.has(key)) effectErrors.push(`task ${run.task_id} attempt ${run.attempt} ${run.outcome} without executing`);
    }
    const runKeys = new Map(runs.map((r) => [`${r.task_id}:${r.attempt}`, r.outcome]));
    for (const key of executed) {
      const outcome = runKeys.get(key);
      if (outcome === undefined) effectErrors.push(`execution ${key} has no recorded run`);
      else if (['reclaimed', 'released', 'cancelled'].includes(outcome)) extra += 1;
    }
    if (executions.length !== executed.size) effectErrors.push(`${executions.length - executed.size} attempts executed twice`);
    add('6 every finished attempt executed; extra executions explained', effectErrors, `${executions.length} executions, ${extra} beyond the recorded outcomes, each on a recorded lost/handed-back lease`);

    // 7. the lock never had two holders
    const violationsFile = `${input.auditFile}.violations`;
    const violations = existsSync(violationsFile) ? readFileSync(violationsFile, 'utf8').split('\n').filter(Boolean) : [];
    if (!input.audited) {
      invariants.push({ name: '7 the lock never had two holders', status: 'N/A', detail: `${input.lockStrategy}: no tasklock lock to audit (writers exclude one another with the server's row locks)` });
    } else if (input.lockStrategy === 'none') {
      invariants.push({ name: '7 the lock never had two holders', status: 'N/A', detail: `strategy none takes no lock (${violations.length} overlapping holds seen)` });
    } else {
      add('7 the lock never had two holders', violations, 'no overlap seen by the in-lock audit');
    }

    // 8. no two executions of one task overlap in time (shell commands: start, ticks, end)
    const overlap = checkOverlap(effects);
    add('8 no two executions of one task overlap in time', overlap.errors,
      `${overlap.executions} shell executions; ${overlap.reruns} ran after an attempt that did not finish, each after its last trace${overlap.reruns > 0 ? ` (closest ${overlap.closestGapMs} ms apart)` : ''}`);

    const counts: Record<string, number> = {};
    for (const task of tasks) counts[task.status] = (counts[task.status] ?? 0) + 1;
    return {
      invariants,
      facts: {
        tasks: tasks.length,
        executions: executions.length,
        extraExecutions: extra,
        reclaimed: events.filter((e) => e.transition === 'reclaim').length,
        worstRecoveryMs,
        shellExecutions: overlap.executions,
        shellReruns: overlap.reruns,
        counts,
      },
    };
  } finally {
    await db.close();
  }
}

