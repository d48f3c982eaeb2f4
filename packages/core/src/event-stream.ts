/**
 * queue.events: the event log of every task, across processes, as an async iterator with a
 * durable cursor. Each event's `id` is its cursor (event-cursor.ts, opaque): start again with
 * `after` = the last id handled and the stream goes on exactly after it — nothing missed,
 * nothing twice, whatever was committed meanwhile and in whatever order (the store hands out
 * only events nothing can come before later: storage/store.ts eventLog).
 *
 * Following (tail -f), it reads a page, and when the log is exhausted sleeps on the store's
 * change signal (any write), looking again soon after a wake and then less often up to
 * FOLLOW_POLL_MS: a claim notifies nobody on PostgreSQL, and there an event held back by an open
 * transaction becomes deliverable when that transaction ends, which notifies nobody either.
 */
import type { TaskEventRow } from './storage/rows.js';
import { parseCursor, START } from './storage/event-cursor.js';
import type { TaskStore } from './storage/store.js';
import { BadInputError } from './errors.js';
import { TRANSITIONS, type TaskStatus, type TransitionName } from './task-state.js';

export interface EventStreamOptions {
  /** Go on after this event id (a previous event's `id`); default: from the first event. */
  after?: string;
  /** Only these kinds of event (the cursor still moves past the others). */
  types?: readonly TransitionName[];
  /** Ends the iteration (it returns, it does not throw). */
  signal?: AbortSignal;
  /** false: yield what is in the log now and end; default true: wait for more (tail -f). */
  follow?: boolean;
}

/** One event of the stream; `id` is its cursor. */
export interface StreamEvent {
  id: string;
  taskId: number;
  at: number;
  transition: TransitionName;
  from: TaskStatus | null;
  to: TaskStatus;
  attempt: number;
  workerId: string | null;
  detail: string | null;
}

/** BadInputError for an `after` that is not a cursor, or a type that is no transition. */
export function validateStreamOptions(options: EventStreamOptions): void {
  if (options.after !== undefined) parseCursor(options.after);
  const kinds = Object.entries(TRANSITIONS).flatMap(([name, t]) => (t.event ? [name] : []));
  for (const type of options.types ?? []) {
    if (!kinds.includes(type)) throw new BadInputError(`unknown event type ${JSON.stringify(type)} (one of ${kinds.join(', ')})`);
  }
}

const PAGE = 500;
const FOLLOW_POLL_MS = 500;

export async function* eventStream(store: TaskStore, options: EventStreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
  let cursor = options.after === undefined ? START : parseCursor(options.after);
  const types = options.types === undefined ? null : new Set(options.types);
  const follow = options.follow ?? true;
  const abort = options.signal;
  const change = follow ? store.changeSignal('any') : null;
  const wake = () => change?.notify();
  abort?.addEventListener('abort', wake);
  try {
    await change?.listen();
    let sleepMs = 1;
    while (!abort?.aborted) {
      const rows = await store.eventLog(cursor, PAGE);
      for (const row of rows) {
        cursor = parseCursor(row.cursor);
        if (types === null || types.has(row.transition)) yield toStreamEvent(row);
        if (abort?.aborted) return;
      }
      if (rows.length === PAGE) continue;
      if (change === null) return;
      const woken = await change.waitForChange(sleepMs);
      sleepMs = woken ? 1 : Math.min(sleepMs * 2, FOLLOW_POLL_MS);
    }
  } finally {
    abort?.removeEventListener('abort', wake);
    change?.close();
  }
}

function toStreamEvent(row: TaskEventRow & { cursor: string }): StreamEvent {
  return {
    id: row.cursor,
    taskId: Number(row.task_id),
    at: Number(row.at),
    transition: row.transition,
    from: row.from_status,
    to: row.to_status,
    attempt: row.attempt,
    workerId: row.worker_id,
    detail: row.detail,
  };
}
