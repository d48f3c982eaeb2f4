/**
 * Keeping the leases of the attempts a worker runs: one heartbeat extends them all, and any the
 * store no longer gives this worker (cancelled by an operator, reclaimed after a stall) is reported
 * lost, so its handler is aborted and nothing is written for it. Also records an attempt's
 * handler process group, which is fenced by the same lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptAbort } from './attempt-abort.js';
import { backoffMs } from './backoff.js';
import { engineCodeOf, errorSummary } from './error-text.js';
import { isTransientWriteError, TaskNotFoundError } from './errors.js';
import type { Lease, Queue } from './queue.js';
import type { ClaimedTask } from './task.js';
import type { WorkerSettings } from './worker-options.js';

/** A handler group's record that met a full disk or a busy lock is tried again: ~10 ms, doubling, up to 1 s. */
const RECORD_BACKOFF = { baseDelayMs: 10, maxDelayMs: 1000 };

/** An attempt this worker runs under its lease. */
export interface RunningAttempt {
  task: ClaimedTask;
  abort: AttemptAbort;
  /** Why the attempt is no longer ours; set once, and no outcome is written after it. */
  lost: string | null;
  /** Its outcome is with the finisher: the store's answer to that write settles it, not a heartbeat. */
  finishing: boolean;
  settled: Promise<void>;
}

export class LeaseKeeper {
  private beating = false;

  constructor(
    private readonly queue: Queue,
    private readonly settings: Pick<WorkerSettings, 'id' | 'leaseMs' | 'log'>,
    private readonly onLost: (attempt: RunningAttempt, reason: string) => void,
  ) {}

  /** One heartbeat for every lease this worker holds; a beat still running makes this one a no-op. */
  async beat(running: ReadonlyMap<number, RunningAttempt>): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      // Judged: the attempts running before the heartbeat was sent. On a server store other
      // writes of this worker commit while it is in flight: a claim committed after its snapshot
      // is missing from its answer, and so is an end committed before it; neither lease is lost.
      const asked = [...running.values()];
      const held = await this.queue.heartbeatWorker(this.settings.id, this.settings.leaseMs);
      for (const attempt of asked) {
        if (attempt.lost !== null || attempt.finishing || held.get(attempt.task.id) === attempt.task.leaseToken) continue;
        // Not ours in the store any more: cancelled by an operator, or reclaimed after our
        // lease expired (a stall, a frozen process). Abort the handler; write nothing for it.
        const status = await this.statusOf(attempt.task.id);
        this.onLost(attempt, status === 'cancelled' ? 'task was cancelled' : `lease lost (task is now ${status})`);
      }
    } catch (error) {
      this.settings.log('error', `heartbeat failed: ${errorSummary(error)}`, { code: engineCodeOf(error) });
    } finally {
      this.beating = false;
    }
  }

  /**
   * Records an attempt's handler group, riding out a full disk or a busy lock for as long as the
   * attempt is ours: the handler must not start its work unrecorded, and failing the attempt over
   * a transient write error would fail a task that never ran.
   */
  async recordHandlerGroup(lease: Lease, pgid: number, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.queue.recordHandlerGroup(lease, pgid);
        return;
      } catch (error) {
        if (!isTransientWriteError(error) || signal.aborted) throw error;
        const delayMs = backoffMs(RECORD_BACKOFF, attempt);
        this.settings.log('warn', `task ${lease.id}: could not record its handler's process group, retrying in ${Math.round(delayMs)} ms: ${errorSummary(error)}`, {
          taskId: lease.id,
          code: engineCodeOf(error),
        });
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        signal.throwIfAborted();
      }
    }
  }

  private async statusOf(id: number): Promise<string> {
    try {
      return (await this.queue.get(id)).status;
    } catch (error) {
      if (error instanceof TaskNotFoundError) return 'deleted';
      throw error;
    }
  }
}
