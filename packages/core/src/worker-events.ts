/**
 * What a worker tells its listeners, and the small emitter that tells them (each event built only when someone listens). Every task event is
 * emitted only after the store answered for it (a claim committed, an outcome accepted by the
 * fence, a lease found gone): an outcome the fence refused is never reported as done.
 *
 * Not Node's EventEmitter, on purpose: its `error` event throws when nobody listens, and a
 * listener that throws escapes from emit() into whoever emitted. Here a worker without an
 * `error` listener runs on, and a listener that throws (or rejects) is caught, logged and
 * reported as `error` — it never breaks the claim loop, a commit or the other listeners.
 */
import { backoffDelayMs, type ClaimedTask } from './task.js';
import type { TaskMap, LooseTasks, TaskTypeOf } from './task-map.js';

/** The task an event is about: the claimed task's identity, its attempt and its payload. */
export type EventTask<Tasks extends TaskMap<Tasks> = LooseTasks> = {
  [Type in TaskTypeOf<Tasks>]: { id: number; type: Type; queue: string; attempt: number; payload: Tasks[Type]['payload'] };
}[TaskTypeOf<Tasks>];

/** A completed attempt: its stored result (typed by its task type) and how long its handler ran. */
export type CompletedEvent<Tasks extends TaskMap<Tasks> = LooseTasks> = {
  [Type in TaskTypeOf<Tasks>]: {
    task: EventTask<Pick<Tasks, Type>>;
    attempt: number;
    result: Tasks[Type]['result'];
    /** From the handler's start to its return (not the commit). */
    durationMs: number;
  };
}[TaskTypeOf<Tasks>];

export interface TaskEvent<Tasks extends TaskMap<Tasks> = LooseTasks> {
  task: EventTask<Tasks>;
  attempt: number;
}

export interface WorkerEventMap<Tasks extends TaskMap<Tasks> = LooseTasks> {
  /** The claim committed: this worker holds the task's lease and its handler starts. */
  claimed: TaskEvent<Tasks>;
  completed: CompletedEvent<Tasks>;
  /** The attempt failed and the task is `failed` for good (no attempts left). `error`: the stored text. */
  failed: TaskEvent<Tasks> & { error: string };
  /**
   * The attempt failed and the task is `pending` again. `runAt`: when it comes due (the task's
   * backoff counted from the commit's answer; the stored run_at may be up to that write's
   * duration earlier).
   */
  retrying: TaskEvent<Tasks> & { error: string; retryInMs: number; runAt: number };
  /** Handed back to `pending` unrun by this worker (a shutdown past its grace period). */
  released: TaskEvent<Tasks>;
  /** The task was cancelled, reclaimed or its outcome refused: this attempt is not ours any more. */
  'lease-lost': TaskEvent<Tasks> & { reason: string };
  /** A handler's progress, after the store recorded it. */
  progress: TaskEvent<Tasks> & { progress: unknown };
  /** Nothing of this worker's queue/types is due and nothing of its own is running: once per idle spell. */
  drained: { queue: string; types: readonly string[] | null };
  /** A failure of the worker itself: a write that failed for good, a listener that threw. */
  error: Error;
}

export type WorkerEventName = keyof WorkerEventMap;
export type WorkerListener<Tasks extends TaskMap<Tasks>, Name extends WorkerEventName> = (event: WorkerEventMap<Tasks>[Name]) => unknown;

type AnyListener = ((event: unknown) => unknown) & { original?: AnyListener };

export class WorkerEvents<Tasks extends TaskMap<Tasks>> {
  private readonly listeners = new Map<WorkerEventName, AnyListener[]>();

  /** `fault`: told of a listener that threw (the worker logs it and emits `error`, except for `error`'s own listeners). */
  constructor(private readonly fault: (name: WorkerEventName, error: unknown) => void) {}

  on<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): void {
    // Copy on write: a listener added or removed during an emit takes effect from the next one.
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as AnyListener]);
  }

  off<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): void {
    // A once() listener is removed by the listener given, not only by its wrapper.
    const kept = (this.listeners.get(name) ?? []).filter((known) => known !== listener && known.original !== listener);
    if (kept.length > 0) this.listeners.set(name, kept);
    else this.listeners.delete(name);
  }

  once<Name extends WorkerEventName>(name: Name, listener: WorkerListener<Tasks, Name>): void {
    const wrapped: AnyListener = (event) => {
      this.off(name, wrapped as WorkerListener<Tasks, Name>);
      return listener(event as WorkerEventMap<Tasks>[Name]);
    };
    wrapped.original = listener as AnyListener;
    this.on(name, wrapped as WorkerListener<Tasks, Name>);
  }

  count(name: WorkerEventName): number {
    return this.listeners.get(name)?.length ?? 0;
  }

  /** Whether anyone listens: the worker builds an event only then (the hot path pays nothing otherwise). */
  wants(name: WorkerEventName): boolean {
    return this.listeners.has(name);
  }

  // The worker's events, each built only when someone listens (the hot path pays nothing otherwise).

  claimed(task: ClaimedTask): void {
    if (this.wants('claimed')) this.emit('claimed', { task: eventTask<Tasks>(task), attempt: task.attempts });
  }

  completed(task: ClaimedTask, result: unknown, durationMs: number): void {
    if (this.wants('completed')) this.emit('completed', { task: eventTask<Tasks>(task), attempt: task.attempts, result, durationMs } as CompletedEvent<Tasks>);
  }

  /** A failed attempt: `final` when the task is `failed` for good, else it is `pending` again. */
  failedAttempt(task: ClaimedTask, error: string, final: boolean): void {
    if (!this.wants(final ? 'failed' : 'retrying')) return;
    const base = { task: eventTask<Tasks>(task), attempt: task.attempts, error };
    if (final) {
      this.emit('failed', base);
      return;
    }
    // The store set run_at = its now + this delay (finish.ts of either store): the same backoff, counted from here.
    const retryInMs = backoffDelayMs(task.backoff, task.attempts);
    this.emit('retrying', { ...base, retryInMs, runAt: Date.now() + retryInMs });
  }

  released(task: ClaimedTask): void {
    if (this.wants('released')) this.emit('released', { task: eventTask<Tasks>(task), attempt: task.attempts });
  }

  leaseLost(task: ClaimedTask, reason: string): void {
    if (this.wants('lease-lost')) this.emit('lease-lost', { task: eventTask<Tasks>(task), attempt: task.attempts, reason });
  }

  progress(task: ClaimedTask, progress: unknown): void {
    if (this.wants('progress')) this.emit('progress', { task: eventTask<Tasks>(task), attempt: task.attempts, progress });
  }

  emit<Name extends WorkerEventName>(name: Name, event: WorkerEventMap<Tasks>[Name]): void {
    const listeners = this.listeners.get(name);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        const answer = listener(event);
        if (isThenable(answer)) answer.then(undefined, (error: unknown) => this.fault(name, error));
      } catch (error) {
        this.fault(name, error);
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function eventTask<Tasks extends TaskMap<Tasks>>(task: ClaimedTask): EventTask<Tasks> {
  return { id: task.id, type: task.type, queue: task.queue, attempt: task.attempts, payload: task.payload } as EventTask<Tasks>;
}
