import { join } from 'node:path';
import { Queue, TaskNotFoundError, type ClaimedTask, type QueueOptions, type Task, type TaskEventRow, type TaskRunRow, type TaskStatus } from '@tasklock/core';
import { SqliteStore, type TasklockDatabase } from '@tasklock/core/sqlite';
import { makeTempDir } from './temp-dir.js';

const opened: Queue[] = [];

/** Test databases skip the fsync per commit: power loss is not what these tests are about. */
function sqliteOptions(options: QueueOptions): QueueOptions {
  return { ...options, sqlite: { synchronous: 'NORMAL', ...options.sqlite } };
}

/** A queue on a fresh SQLite file; closed by `closeQueues()` (call it in afterEach). */
export async function openTempQueue(options: QueueOptions = {}): Promise<Queue> {
  const queue = await Queue.open(join(makeTempDir(), 'q.db'), sqliteOptions(options));
  opened.push(queue);
  return queue;
}

/** A second queue on the same store (another connection, as another process would have). */
export async function reopen(queue: Queue, options: QueueOptions = {}): Promise<Queue> {
  const again = await Queue.open(queue.describe().location, sqliteOptions(options));
  opened.push(again);
  return again;
}

export function closeQueues(): void {
  for (const queue of opened.splice(0)) queue.close();
}

/**
 * The SQLite database under a queue, for tests of the SQLite store itself (fault injection,
 * query plans, rows written behind the queue's back). Store-neutral tests never need it.
 */
export function sqliteOf(queue: Queue): TasklockDatabase {
  if (!(queue.store instanceof SqliteStore)) throw new Error(`not a SQLite store: ${queue.describe().engine}`);
  return queue.store.database;
}

export interface Placed {
  task: Task;
  /** The lease of the task's last claim (stale once it left running), if it was ever claimed. */
  lease: ClaimedTask | null;
}

/** Puts a fresh task into `status` through the public API only. */
export async function taskIn(queue: Queue, status: TaskStatus, type = 'job'): Promise<Placed> {
  const task = await queue.enqueue(type, { status }, { maxAttempts: status === 'failed' ? 1 : 3, queue: `q-${status}-${Math.random()}` });
  if (status === 'pending') return { task: await queue.get(task.id), lease: null };
  if (status === 'cancelled') {
    await queue.cancel(task.id);
    return { task: await queue.get(task.id), lease: null };
  }
  const [lease] = await queue.claim({ workerId: 'w-test', queue: task.queue });
  if (!lease || lease.id !== task.id) throw new Error('claim did not return the task');
  if (status === 'succeeded') await queue.complete(lease, { done: true });
  if (status === 'failed') await queue.fail(lease, 'boom');
  return { task: await queue.get(task.id), lease };
}

/**
 * What the store holds about one task (the task, its runs, its events), read through the queue:
 * what a refused move must leave as it was. A task that does not exist is `task: null`.
 */
export async function snapshot(queue: Queue, id: number): Promise<{ task: Task | null; runs: TaskRunRow[]; events: TaskEventRow[] }> {
  try {
    return { task: await queue.get(id), runs: await queue.runs(id), events: await queue.events(id) };
  } catch (error) {
    if (error instanceof TaskNotFoundError) return { task: null, runs: [], events: [] };
    throw error;
  }
}

/** Replays a task's event log: the status it arrives at. */
export async function replayStatus(queue: Queue, id: number): Promise<TaskStatus | null> {
  let status: TaskStatus | null = null;
  for (const event of await queue.events(id)) {
    if (event.from_status !== status) throw new Error(`task ${id}: event ${event.id} starts from ${event.from_status}, log was at ${status}`);
    status = event.to_status;
  }
  return status;
}

/** A task of `type` on a queue of its own, claimed and ended `how`, its retry (if any) an hour away; answers its id. */
export async function finishOne(queue: Queue, type: string, how: 'complete' | 'fail', options: { maxAttempts?: number } = {}): Promise<number> {
  const task = await queue.enqueue(type, {}, { queue: `q-${type}-${how}-${Math.random()}`, backoff: { baseMs: 3_600_000 }, ...options });
  const [lease] = await queue.claim({ workerId: 'w-1', queue: task.queue });
  if (how === 'complete') await queue.complete(lease!, null);
  else await queue.fail(lease!, 'boom');
  return task.id;
}
