import { InvalidTransitionError } from './errors.js';

/**
 * The task state machine: every status, every transition, in one table. The queue's SQL writes
 * only the moves listed here (each as one conditional UPDATE whose WHERE repeats `from` and, for
 * fenced moves, the lease token), the README's table is generated from it, and a unit test walks
 * every (transition, status) pair.
 *
 *   pending    waiting to run; `run_at` may lie in the future (a delayed task or a retry in backoff)
 *   running    claimed by one worker under a lease: `lease_token` (the fencing token),
 *              `lease_expires_at` and `locked_by` are set exactly in this state (a CHECK says so)
 *   succeeded  terminal: the handler's result is stored
 *   failed     terminal: attempts exhausted (or a handler error on the last attempt)
 *   cancelled  terminal: cancelled by an operator; a running handler learns it at its next heartbeat
 */
export const TASK_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

export type TransitionName =
  | 'enqueue'
  | 'claim'
  | 'heartbeat'
  | 'complete'
  | 'fail'
  | 'reclaim'
  | 'release'
  | 'cancel'
  | 'retry'
  | 'purge';

export interface Transition {
  /** Statuses the move starts from; `null` = the task does not exist yet. */
  from: readonly (TaskStatus | null)[];
  /** Where it may end; `deleted` = the row is gone. */
  to: readonly (TaskStatus | 'deleted')[];
  /** Requires the caller's lease token (a stale token is LeaseLostError, not InvalidTransition). */
  fenced: boolean;
  /** Appears in the event log (every move but heartbeat, which only extends the lease, and purge). */
  event: boolean;
  doc: string;
}

export const TRANSITIONS: Readonly<Record<TransitionName, Transition>> = {
  enqueue: { from: [null], to: ['pending'], fenced: false, event: true, doc: 'a new task; `run_at` = now, `runAt` or now + `delayMs`' },
  claim: {
    from: ['pending'],
    to: ['running'],
    fenced: false,
    event: true,
    doc: 'pending with `run_at` ≤ now; increments `attempts`, issues a new lease token and expiry, opens a `task_runs` row',
  },
  heartbeat: { from: ['running'], to: ['running'], fenced: true, event: false, doc: 'extends the lease (one statement per worker), may record progress and counts' },
  complete: { from: ['running'], to: ['succeeded'], fenced: true, event: true, doc: 'stores the result' },
  fail: {
    from: ['running'],
    to: ['pending', 'failed'],
    fenced: true,
    event: true,
    doc: 'stores the error; back to pending after the backoff while attempts (less released ones) < max, else failed',
  },
  reclaim: {
    from: ['running'],
    to: ['pending', 'failed'],
    fenced: false,
    event: true,
    doc: 'its lease expired or its worker died (after any handler process group it left is gone): back to pending, or failed once attempts are used up; the run ends `reclaimed`',
  },
  release: {
    from: ['running'],
    to: ['pending'],
    fenced: true,
    event: true,
    doc: 'graceful worker shutdown hands an unfinished task back; the attempt is counted in `released`, not against `max_attempts`',
  },
  cancel: { from: ['pending', 'running'], to: ['cancelled'], fenced: false, event: true, doc: 'operator cancel; a running handler is aborted at its next heartbeat' },
  retry: { from: ['failed', 'cancelled'], to: ['pending'], fenced: false, event: true, doc: 'operator retry; grants at least one more attempt' },
  purge: { from: ['succeeded', 'failed', 'cancelled'], to: ['deleted'], fenced: false, event: false, doc: 'deletes terminal tasks older than a bound, with their runs and events' },
};

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(transition: TransitionName, from: TaskStatus | null): boolean {
  return TRANSITIONS[transition].from.includes(from);
}

/** Guarded entry: throws InvalidTransitionError when `transition` may not start from `from`. */
export function assertTransition(taskId: number, transition: TransitionName, from: TaskStatus): void {
  if (!canTransition(transition, from)) throw new InvalidTransitionError(taskId, transition, from);
}

/** The README's state-machine table, generated from TRANSITIONS. */
export function transitionTableMarkdown(): string {
  const rows = Object.entries(TRANSITIONS).map(
    ([name, t]) =>
      `| ${name} | ${t.from.map((s) => s ?? '(new)').join(', ')} | ${t.to.join(', ')} | ${t.fenced ? 'yes' : 'no'} | ${t.event ? 'yes' : 'no'} | ${t.doc} |`,
  );
  return ['| transition | from | to | needs lease token | in the event log | what it does |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
