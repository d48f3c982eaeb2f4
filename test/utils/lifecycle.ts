import { join } from 'node:path';
import { Queue, type ClaimedTask, type QueueOptions, type Task, type TaskStatus } from '@tasklock/core';
import { makeTempDir } from './temp-dir.js';

const opened: Queue[] = [];

/** A queue on a fresh database file; closed by `closeQueues()` (call it in afterEach). */
export async function openTempQueue(options: QueueOptions = {}): Promise<Queue> {
  const queue = await Queue.open(join(makeTempDir(), 'q.db'), { synchronous: 'NORMAL', ...options });
  opened.push(queue);
  return queue;
}

export async function reopen(queue: Queue, options: QueueOptions = {}): Promise<Queue> {
  const again = await Queue.open(queue.db.path, { synchronous: 'NORMAL', ...options });
  opened.push(again);
  return again;
}

export function closeQueues(): void {
  for (const queue of opened.splice(0)) queue.close();
}

export interface Placed {
  task: Task;
  /** The lease of the task's last claim (stale once it left running), if it was ever claimed. */
  lease: ClaimedTask | null;
}

/** Puts a fresh task into `status` through the public API only. */
export async function taskIn(queue: Queue, status: TaskStatus, type = 'job'): Promise<Placed> {
  const task = await queue.enqueue(type, { status }, { maxAttempts: status === 'failed' ? 1 : 3, queue: `q-${status}-${Math.random()}` });
  if (status === 'pending') return { task: queue.get(task.id), lease: null };
  if (status === 'cancelled') {
    await queue.cancel(task.id);
    return { task: queue.get(task.id), lease: null };
  }
  const [lease] = await queue.claim({ workerId: 'w-test', queue: task.queue });
  if (!lease || lease.id !== task.id) throw new Error('claim did not return the task');
  if (status === 'succeeded') await queue.complete(lease, { done: true });
  if (status === 'failed') await queue.fail(lease, 'boom');
  return { task: queue.get(task.id), lease };
}

/** Every table's rows for one task: what a refused transition must leave untouched. */
export function snapshot(queue: Queue, id: number) {
  const db = queue.db.connection;
  return {
    task: db.prepare('SELECT * FROM tasks WHERE id = ?').all(id),
    runs: db.prepare('SELECT * FROM task_runs WHERE task_id = ? ORDER BY id').all(id),
    events: db.prepare('SELECT * FROM task_events WHERE task_id = ? ORDER BY id').all(id),
  };
}

/** Replays a task's event log: the status it arrives at. */
export function replayStatus(queue: Queue, id: number): TaskStatus | null {
  let status: TaskStatus | null = null;
  for (const event of queue.events(id)) {
    if (event.from_status !== status) throw new Error(`task ${id}: event ${event.id} starts from ${event.from_status}, log was at ${status}`);
    status = event.to_status;
  }
  return status;
}
