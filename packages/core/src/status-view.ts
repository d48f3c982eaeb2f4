import type { TaskStatus } from './task-state.js';

/**
 * How tasks are counted, listed and filtered: the stored statuses, with `pending` split by time
 * into `pending` (due: `run_at` ≤ now, a worker may claim it) and `scheduled` (`run_at` > now: a
 * delayed task, or a retry waiting out its backoff).
 *
 * `scheduled` is a view, not a stored status: the state machine (task-state.ts) has no such
 * state, no transition enters or leaves it, and a scheduled task becomes pending by the clock
 * alone. So it is always computed against a `now`, and a task's JSON keeps its stored status.
 */
export const STATUS_VIEWS = ['pending', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StatusView = (typeof STATUS_VIEWS)[number];

export function isStatusView(value: unknown): value is StatusView {
  return typeof value === 'string' && (STATUS_VIEWS as readonly string[]).includes(value);
}

export function statusViewOf(task: { status: TaskStatus; runAt: number }, now: number): StatusView {
  return task.status === 'pending' && task.runAt > now ? 'scheduled' : task.status;
}

/** The stored status a view reads from (`scheduled` is pending). */
export function storedStatusOf(view: StatusView): TaskStatus {
  return view === 'scheduled' ? 'pending' : view;
}

export function zeroCounts(): Record<StatusView, number> {
  return { pending: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}
