/**
 * Reclaim: taking back tasks nobody runs any more, so that they run again (or fail, once their
 * attempts are used up). One name for one idea: the sweep is `reclaim`, the transition and its
 * event are `reclaim`, the attempt's run ends `reclaimed`, a worker counts `reclaimed`.
 *
 * A task is taken back when its lease expired (anywhere); at once when it belongs to a worker of
 * this host whose process is gone (pid + start time, so a reused pid does not count as alive);
 * and when it belongs to a worker of another host whose heartbeat has been silent longer than
 * that worker's own bound (`dead_after_ms`, judged by the store's clock and re-checked inside the
 * write, so a worker that heartbeat meanwhile keeps its tasks). Another host's pid cannot be
 * asked after from here; its heartbeat is what it can be judged by.
 *
 * No hand-over while the previous attempt still runs: when an attempt recorded its handler's
 * process group on this host and a member of it is alive (orphaned by a worker killed alone, or
 * run by a frozen one), the group is SIGKILLed and the task handed on only once the group is
 * gone — before the store's transaction, which never waits. A group on another host cannot be
 * seen from here: there the lease is the only rule.
 */
import { BadInputError } from './errors.js';
import { killGroupAndWait, type ProcessGroup } from './process-group.js';
import { currentProcess, isProcessAlive } from './process-identity.js';
import type { HeldTask } from './storage/rows.js';
import type { TaskStore } from './storage/store.js';

export interface ReclaimOptions {
  /** Who sweeps, recorded as `crashed_by` of the dead workers it finds (default host:pid). */
  by?: string;
  /** Rows of stopped or crashed workers are kept this long (default 7 days). */
  workerRetentionMs?: number;
  /** How long to wait for a killed handler process group to be gone (default 2 s). */
  handlerExitWaitMs?: number;
}

export interface ReclaimResult {
  /** Tasks taken back because their lease expired. */
  leaseExpired: number;
  /** Tasks taken back because their worker is dead: its process gone (this host) or its heartbeat silent past its bound (another host). */
  deadOwner: number;
  /** Workers found dead: by pid on this host, and those of other hosts silent past their bound. */
  deadWorkers: string[];
  /** Handler process groups of reclaimed attempts that still ran and were killed first. */
  killedGroups: { taskId: number; pgid: number; members: number; waitedMs: number }[];
  /** Tasks left running because their previous attempt's processes outlived the wait (tried again next sweep). */
  blocked: { taskId: number; pgid: number }[];
  /** Rows of workers that ended before the retention, deleted. */
  pruned: number;
}

export const DEFAULT_WORKER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const DEFAULT_HANDLER_EXIT_WAIT_MS = 2000;
/** Expired leases taken back per sweep transaction. */
const RECLAIM_BATCH = 1000;

const WHY = { 'dead-owner': 'worker process is gone', 'lease-expired': 'lease expired' } as const;
const SILENT = "worker's heartbeat is silent past its bound";

export async function sweep(store: TaskStore, options: ReclaimOptions = {}): Promise<ReclaimResult> {
  const me = currentProcess();
  const by = options.by ?? `${me.host}:${me.pid}`;
  const retentionMs = options.workerRetentionMs ?? DEFAULT_WORKER_RETENTION_MS;
  const waitMs = options.handlerExitWaitMs ?? DEFAULT_HANDLER_EXIT_WAIT_MS;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new BadInputError('reclaim: workerRetentionMs must be a non-negative number');
  const dead = (await store.workersOnHost(me.host)).filter((w) => !isProcessAlive({ pid: w.pid, start: w.process_start }));
  const deadWorkerIds = dead.map((w) => w.id);
  const silent = (await store.silentWorkers(me.host, Date.now())).map((w) => w.id);
  const silentIds = new Set(silent);
  const pruneBefore = Date.now() - retentionMs;
  const result: ReclaimResult = { leaseExpired: 0, deadOwner: 0, deadWorkers: deadWorkerIds, killedGroups: [], blocked: [], pruned: 0 };
  const candidates = await store.reclaimCandidates([...deadWorkerIds, ...silent], Date.now(), RECLAIM_BATCH);
  // The common case, nothing to do, costs a few indexed reads and no write transaction.
  if (deadWorkerIds.length === 0 && silent.length === 0 && candidates.length === 0 && !(await store.anyPrunableWorkers(pruneBefore))) return result;

  const localGroup = (task: HeldTask): ProcessGroup | null =>
    task.handler_pgid !== null && task.handler_host === me.host ? { pgid: task.handler_pgid, start: task.handler_start ?? '' } : null;
  // Per attempt (task id + lease token) with a handler group here: null while the group
  // outlived the wait, else what it took to make it gone (for the event).
  const groupGone = new Map<string, string | null>();
  for (const task of candidates) {
    const group = localGroup(task);
    if (group === null) continue;
    const kill = await killGroupAndWait(group, waitMs);
    if (kill.gone && kill.members > 0) result.killedGroups.push({ taskId: task.id, pgid: group.pgid, members: kill.members, waitedMs: kill.waitedMs });
    groupGone.set(
      `${task.id}:${task.lease_token}`,
      !kill.gone ? null : kill.members === 0 ? '' : `; its handler's process group ${group.pgid} still ran (${kill.members} process(es)): killed, gone after ${kill.waitedMs} ms`,
    );
  }
  // Filled inside the transaction, whose body runs again if it is retried: keyed, so counted once.
  const blocked = new Map<number, number>();
  const write = await store.reclaim({
    deadWorkerIds,
    silentWorkerIds: silent,
    limit: RECLAIM_BATCH,
    crashedBy: by,
    pruneBefore,
    detail: (task) => {
      const group = localGroup(task);
      const killed = groupGone.get(`${task.id}:${task.lease_token}`);
      if (group !== null && killed === null) blocked.set(task.id, group.pgid);
      // Not looked at before the transaction (expired since): the next sweep will.
      if (group !== null && (killed === undefined || killed === null)) return null;
      const why = task.why === 'dead-owner' && silentIds.has(task.locked_by) ? SILENT : WHY[task.why];
      return `reclaimed: ${why}${killed ?? ''} (worker ${task.locked_by}, attempt ${task.attempts})`;
    },
  });
  for (const { task } of write.reclaimed) {
    if (task.why === 'lease-expired') result.leaseExpired += 1;
    else result.deadOwner += 1;
  }
  result.blocked = [...blocked].map(([taskId, pgid]) => ({ taskId, pgid }));
  result.deadWorkers = [...deadWorkerIds, ...write.silentDead];
  result.pruned = write.pruned;
  return result;
}
