/**
 * Who works on the queue: worker rows (registered, stopped, crashed, pruned by the sweep) and the
 * process groups their handlers start. Liveness is read from /proc here, above the store: a row
 * says which process (host, pid, start time), only this host can tell whether it still runs.
 */
import { BadInputError } from './errors.js';
import { isForeignGroup } from './process-group.js';
import { currentProcess, isProcessAlive, processStart } from './process-identity.js';
import type { WorkerRow } from './storage/rows.js';
import type { LeaseRef, TaskStore } from './storage/store.js';

/** A worker row and whether its process runs: false once ended or gone, null on another host (cannot tell). */
export type WorkerView = WorkerRow & { alive: boolean | null };

export function register(store: TaskStore, worker: { id: string; queue: string; types: readonly string[] | null; deadAfterMs: number }): Promise<void> {
  const me = currentProcess();
  return store.registerWorker({
    id: worker.id,
    pid: me.pid,
    host: me.host,
    process_start: me.start,
    queue: worker.queue,
    types: worker.types === null ? null : JSON.stringify(worker.types),
    started_at: Date.now(),
    dead_after_ms: worker.deadAfterMs,
  });
}

export async function list(store: TaskStore): Promise<WorkerView[]> {
  const host = currentProcess().host;
  return (await store.workers()).map((w) => ({
    ...w,
    alive: w.stopped_at !== null || w.crashed_at !== null ? false : w.host === host ? isProcessAlive({ pid: w.pid, start: w.process_start }) : null,
  }));
}

/**
 * Records the process group an attempt's handler runs in (fenced by the lease, once per
 * attempt): if the worker dies, the reclaim sweep on this host kills that group before the
 * task runs again. LeaseLostError when the lease is gone: the caller must then kill the group.
 */
export async function recordHandlerGroup(store: TaskStore, lease: LeaseRef, pgid: number): Promise<void> {
  if (!isForeignGroup(pgid)) throw new BadInputError(`process group ${String(pgid)} cannot be a handler's own group`, { taskId: lease.id });
  await store.recordHandler(lease, { pgid, start: processStart(pgid) ?? '', host: currentProcess().host });
}
