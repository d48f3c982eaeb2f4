/**
 * Keeping the leases of the attempts a worker runs: one heartbeat extends them all, and any the
 * store no longer gives this worker (cancelled by an operator, reclaimed after a stall) is reported
 * lost, so its handler is aborted and nothing is written for it. Also records an attempt's
 * handler process group, which is fenced by the same lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptAbort } from './attempt-abort.js';
import type { AttemptReporter } from './attempt-reporter.js';
import { engineCodeOf, errorSummary } from './error-text.js';
import { TaskNotFoundError } from './errors.js';
import type { Lease, Queue } from './queue.js';
import type { StoreOutage } from './store-outage.js';
import type { ClaimedTask } from './task.js';
import type { WorkerSettings } from './worker-options.js';

/** An attempt this worker runs under its lease. */
export interface RunningAttempt {
  task: ClaimedTask;
  abort: AttemptAbort;
  /** Why the attempt is no longer ours; set once, and no outcome is written after it. */
  lost: string | null;
  /**
   * The handler returned and its outcome is with the finisher, which settles it — also when the
   * lease is gone, or when an earlier try of that write did commit (a connection cut during COMMIT).
   */
  finishing: boolean;
  settled: Promise<void>;
  /** Made on the handler's first ctx.progress / ctx.count: an attempt that reports nothing costs nothing. */
  reporter: AttemptReporter | null;
}

export class LeaseKeeper {
  private beating = false;

  constructor(
    private readonly queue: Queue,
    private readonly settings: Pick<WorkerSettings, 'id' | 'leaseMs' | 'log'>,
    private readonly outage: StoreOutage,
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
      const held = await this.queue.heartbeatWorker(this.settings.id, this.settings.leaseMs, asked.map((attempt) => attempt.task.id));
      this.outage.succeeded('heartbeat');
      for (const attempt of asked) {
        if (attempt.lost !== null || attempt.finishing || held.get(attempt.task.id) === attempt.task.leaseToken) continue;
        // Not ours in the store any more: cancelled by an operator, or reclaimed after our
        // lease expired (a stall, a frozen process). Abort the handler; write nothing for it.
        const status = await this.statusOf(attempt.task.id);
        this.onLost(attempt, status === 'cancelled' ? 'task was cancelled' : `lease lost (task is now ${status})`);
      }
    } catch (error) {
      if (this.outage.failed('heartbeat', error) === null) this.settings.log('error', `heartbeat failed: ${errorSummary(error)}`, { code: engineCodeOf(error) });
    } finally {
      this.beating = false;
    }
  }

  /**
   * Records an attempt's handler group, riding out an outage of the store (a full disk, a busy
   * lock, a server restarting) for as long as the attempt is ours: the handler must not start its work unrecorded, and failing the attempt over
   * a transient write error would fail a task that never ran.
   */
  async recordHandlerGroup(lease: Lease, pgid: number, signal: AbortSignal): Promise<void> {
    const part = `handler group of task ${lease.id}`;
    try {
      for (;;) {
        try {
          await this.queue.recordHandlerGroup(lease, pgid);
          return;
        } catch (error) {
          const delayMs = this.outage.failed(part, error);
          if (delayMs === null || signal.aborted) throw error;
          await sleep(delayMs, undefined, { signal }).catch(() => undefined);
          signal.throwIfAborted();
        }
      }
    } finally {
      // Recorded, refused or given up (the attempt was aborted): either way it no longer waits on the store.
      this.outage.succeeded(part);
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
