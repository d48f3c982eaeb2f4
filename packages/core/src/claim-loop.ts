/**
 * A worker's claim loop: claim as many due tasks as there are free slots, in one transaction;
 * when nothing is due, sleep until the store signals a change (listened to only while idle), the next scheduled task comes
 * due, or a backing-off poll says to look again. With untilEmpty, it ends once the queue is
 * drained (see `drained`).
 */
import { errorSummary } from './error-text.js';
import type { Queue } from './queue.js';
import type { StoreOutage } from './store-outage.js';
import type { ChangeSignal } from './storage/store.js';
import type { ClaimedTask } from './task.js';
import type { WorkerSettings } from './worker-options.js';

/** What the loop needs to know of the worker it feeds. */
export interface ClaimTarget {
  readonly stopping: boolean;
  /** maxTasks reached: nothing more will be claimed. */
  readonly full: boolean;
  /** Handlers running now. */
  readonly running: number;
  /** Outcomes waiting to be stored: a drain is not over while some are. */
  readonly unsettled: number;
  /**
   * Takes up to `wanted` free slots (within concurrency and maxTasks, less those running or
   * reserved by a claim in flight, this loop's or the finisher's) and answers how many it took.
   */
  reserve(wanted: number): number;
  /** Gives back `slots` reserved, then starts the handlers of the tasks that claim took. */
  claimed(slots: number, tasks: readonly ClaimedTask[]): void;
  /** untilEmpty ended with `scheduled` tasks left pending for later. */
  drained(scheduled: number): void;
  /** Nothing due for this worker, and nothing of its own running or waiting to be stored. */
  idle(): void;
  /** A claim failed for a reason of its own (not an outage): logged by the worker; tried again after a poll. */
  failed(error: unknown, message: string): void;
}

export async function claimLoop(queue: Queue, settings: WorkerSettings, wake: ChangeSignal, outage: StoreOutage, target: ClaimTarget): Promise<void> {
  const { batch, leaseMs, maxPollMs } = settings;
  let idleMs = 1;
  let listening = false;
  /**
   * A read or the claim failed. Transient (the store is away): part of the outage, which logs
   * itself, and a backoff. Otherwise a failed claim is logged and tried again after a poll;
   * a read that fails for good ends the loop, as it always has.
   */
  const rideOut = async (error: unknown, claiming: boolean) => {
    let delayMs = outage.failed('claim', error);
    if (delayMs === null) {
      if (!claiming) throw error;
      target.failed(error, `claim failed: ${errorSummary(error)}`);
      delayMs = maxPollMs;
    }
    // stop() notifies the signal: a worker told to stop during an outage does not sit out the backoff.
    await wake.waitForChange(delayMs);
  };
  while (!target.stopping && !target.full) {
    const slots = target.reserve(batch);
    if (slots === 0) {
      await wake.waitForChange(maxPollMs);
      continue;
    }
    // A read (no lock) before paying for a write transaction.
    let due: boolean;
    try {
      due = await queue.hasDue(settings.queue, settings.types);
    } catch (error) {
      target.claimed(slots, []);
      await rideOut(error, false);
      continue;
    }
    outage.succeeded('claim');
    if (!due) {
      target.claimed(slots, []);
      try {
        if (target.running === 0 && target.unsettled === 0) {
          target.idle();
          if (settings.untilEmpty && (await drained(queue, settings, target))) return;
        }
        if (!listening) {
          // Idle from here: notice other processes' commits, then look once more, so that one
          // committed since the read above is not missed.
          await wake.listen();
          listening = true;
          continue;
        }
        // A wake-up comes with the WAL write, a moment before the commit is visible (with
        // synchronous=FULL, an fsync later): after one, look again soon and then less and less
        // often; without one, back off towards maxPollMs.
        const woken = await wake.waitForChange(await idleWaitMs(queue, settings, idleMs));
        idleMs = woken ? 1 : Math.min(idleMs * 2, maxPollMs);
      } catch (error) {
        await rideOut(error, false);
      }
      continue;
    }
    if (listening) {
      // Busy: other writers' commits would only wake this loop for nothing.
      wake.unlisten();
      listening = false;
    }
    let tasks: ClaimedTask[];
    try {
      tasks = await queue.claim({ workerId: settings.id, queue: settings.queue, types: settings.types, limit: slots, leaseMs });
    } catch (error) {
      target.claimed(slots, []);
      await rideOut(error, true);
      continue;
    }
    outage.succeeded('claim');
    idleMs = 1;
    target.claimed(slots, tasks);
  }
}

/**
 * untilEmpty's stop condition: nothing of this queue/types due, nothing running anywhere (a
 * running task may fail and come back), and nothing scheduled due within untilEmptyWaitMs. A
 * scheduled task is not work left undone: a task for 2030 must not keep a drain alive for years.
 */
async function drained(queue: Queue, settings: WorkerSettings, target: ClaimTarget): Promise<boolean> {
  const backlog = await queue.backlog(settings.queue, settings.types);
  if (backlog.due > 0 || backlog.running > 0) return false;
  if (backlog.nextDueInMs !== null && backlog.nextDueInMs <= settings.untilEmptyWaitMs) return false;
  target.drained(backlog.scheduled);
  settings.log(
    'info',
    backlog.nextRunAt === null
      ? 'queue empty: nothing due, running or scheduled'
      : `queue empty: nothing due or running; ${backlog.scheduled} task(s) scheduled later are left (next at ${new Date(backlog.nextRunAt).toISOString()})`,
    { scheduled: backlog.scheduled },
  );
  return true;
}

/** How long an idle worker sleeps: the backing-off poll, or less if a scheduled task comes due sooner. */
async function idleWaitMs(queue: Queue, settings: WorkerSettings, idleMs: number): Promise<number> {
  const next = await queue.nextDueInMs(settings.queue, settings.types);
  const untilDue = next === null ? Number.POSITIVE_INFINITY : Math.max(1, next);
  return Math.min(untilDue, idleMs);
}
