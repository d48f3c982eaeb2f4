/**
 * queue.waitFor: waiting for tasks to end, however many are waited for, on ONE change signal
 * (the 'end' topic) per queue handle and one loop that reads the waited tasks again whenever it
 * wakes. It wakes on another process's end of a task (the WAL watch on SQLite, LISTEN on
 * PostgreSQL), on a new waiter, and on a slow safety timer (a missed notification, a purge,
 * which notifies nobody). After a wake that ended nothing it looks again soon, then less and
 * less often: on SQLite the wake comes with the WAL write, a moment before the commit is visible.
 *
 * The signal listens, and the store has marked the task awaited (awaitEnds: on PostgreSQL only
 * an awaited task's completion notifies), before the first read of a waiter's task, so an end
 * committed after that read wakes the loop. A task that ended resolves its waiters with the task, whatever the end:
 * succeeded, failed or cancelled (its status and lastError say which); only the wait itself
 * rejects — WaitTimeoutError, WaitAbortedError, or TaskNotFoundError (an unknown id, at the
 * first read; or the task was purged meanwhile).
 */
import { TaskNotFoundError, WaitAbortedError, WaitTimeoutError } from './errors.js';
import type { ChangeSignal, TaskStore } from './storage/store.js';
import { isTerminal } from './task-state.js';
import { toTask, type Task } from './task.js';

export interface WaitOptions {
  /** Ends the wait (WaitAbortedError) when aborted; the task is not touched. */
  signal?: AbortSignal;
  /** Ends the wait (WaitTimeoutError) after this long; default: no limit. */
  timeoutMs?: number;
}

/** Longest sleep between two reads when nothing wakes the loop. */
const SAFETY_POLL_MS = 1000;
/**
 * How long the signal stays open after the last wait ended: a producer waiting for one task
 * after another reuses it instead of opening a LISTEN connection per task on PostgreSQL.
 */
const LINGER_MS = 2000;

interface Waiter {
  resolve(task: Task): void;
  reject(error: Error): void;
  settled: boolean;
  /** The task was read since this wait began: a timeout may now be reported. */
  seen: boolean;
  /** The time ran out before the first read: the first read that finds the task live reports it. */
  expired: boolean;
  timedOut(): void;
}

export class TaskWaiter {
  private readonly waiters = new Map<number, Set<Waiter>>();
  private signal: ChangeSignal | null = null;
  private closed = false;

  constructor(private readonly store: TaskStore) {}

  wait(id: number, options: WaitOptions = {}): Promise<Task> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(new WaitAbortedError(id, signal.reason));
    return new Promise<Task>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(new WaitAbortedError(id, signal!.reason)));
      const settle = (finish: () => void) => {
        if (waiter.settled) return;
        waiter.settled = true;
        this.remove(id, waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const waiter: Waiter = {
        resolve: (task) => settle(() => resolve(task)),
        reject: (error) => settle(() => reject(error)),
        settled: false,
        seen: false,
        expired: false,
        timedOut: () => settle(() => reject(new WaitTimeoutError(id, timeoutMs!))),
      };
      // The task is read at least once however short the time: a task that has ended is the answer even with timeoutMs 0.
      if (timeoutMs !== undefined) timer = setTimeout(() => (waiter.seen ? waiter.timedOut() : (waiter.expired = true)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Marked before the first read of the task (the loop's, once the waiter is in): an end committed after that read wakes the loop.
      this.store.awaitEnds([id]).then(
        () => {
          if (!this.enter(id, waiter)) return;
          if (this.signal === null) void this.run();
          // A loop already running reads the new task at once.
          else this.signal.notify();
        },
        (error: unknown) => waiter.reject(error as Error),
      );
    });
  }

  /** Adds the waiter unless it has settled already (aborted while its task was being marked). */
  private enter(id: number, waiter: Waiter): boolean {
    if (waiter.settled) return false;
    const set = this.waiters.get(id) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(id, set);
    return true;
  }

  /** Ends every wait (the queue is closing). */
  close(): void {
    this.closed = true;
    this.signal?.close();
  }

  private remove(id: number, waiter: Waiter): void {
    const set = this.waiters.get(id);
    if (set === undefined || !set.delete(waiter)) return;
    if (set.size === 0) this.waiters.delete(id);
  }

  private async run(): Promise<void> {
    const signal = this.store.changeSignal('end');
    this.signal = signal;
    let sleepMs = 1;
    let idleSince: number | null = null;
    try {
      await signal.listen();
      for (;;) {
        if (this.waiters.size === 0) {
          idleSince ??= Date.now();
          const left = idleSince + LINGER_MS - Date.now();
          if (left <= 0 || this.closed) break;
          // A new wait notifies the signal.
          await signal.waitForChange(left);
          continue;
        }
        idleSince = null;
        await this.readAll();
        if (this.waiters.size === 0) continue;
        const woken = await signal.waitForChange(sleepMs);
        sleepMs = woken ? 1 : Math.min(sleepMs * 2, SAFETY_POLL_MS);
      }
    } catch (error) {
      // A read that failed (the store is unreachable, or closed): every wait learns why.
      for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.reject(error as Error);
    } finally {
      this.signal = null;
      signal.close();
    }
  }

  /** Reads each waited task once; settles the waiters of those that ended or are gone. */
  private async readAll(): Promise<void> {
    for (const id of [...this.waiters.keys()]) {
      // Those waiting when the read began: a wait that began during it has not seen the task yet.
      const readFor = [...(this.waiters.get(id) ?? [])];
      const row = await this.store.get(id);
      const ended = row === undefined ? null : isTerminal(row.status) ? toTask(row) : undefined;
      for (const waiter of readFor) {
        if (ended === null) waiter.reject(new TaskNotFoundError(id));
        else if (ended !== undefined) waiter.resolve(ended);
        else if (waiter.expired) waiter.timedOut();
        else waiter.seen = true;
      }
    }
  }
}
