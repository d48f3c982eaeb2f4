/**
 * What one attempt's handler reports while it runs: ctx.progress(value) and ctx.count(name, delta).
 * Both are buffered here and written through the attempt's fenced heartbeat (queue.heartbeat, the
 * store's one heartbeat write), so a write from a lost lease is refused and lands nothing:
 *  - progress: at most one write per `progressEveryMs`; only the latest value is kept, and it is
 *    always written eventually — by a later write, or with the attempt's outcome (final()).
 *  - counts: summed per name; written with the next progress write, else after `countsEveryMs`
 *    (the heartbeat interval), and at the latest in the transaction of the attempt's outcome.
 * One write at a time per attempt, in order: final() waits for the write in flight, so an older
 * value can never land after the outcome (which would also be refused, losing its counts).
 *
 * What a crash loses: deltas not yet written. A worker killed mid-attempt keeps the counts its
 * earlier writes committed; its buffered deltas (at most ~countsEveryMs of them) die with it. A
 * write that failed goes back into the buffer and is tried again; only when the store cannot say
 * whether that write committed (a connection cut during COMMIT) may its deltas land twice.
 */
import { TasklockError } from './errors.js';
import type { CounterDelta, AttemptReport } from './storage/store.js';
import { JsonText } from './task.js';
import { checkCount } from './validate.js';

export interface ReporterSettings {
  taskId: number;
  progressEveryMs: number;
  countsEveryMs: number;
  maxProgressBytes: number;
  /** The fenced write: queue.heartbeat for this attempt's lease. */
  write(progress: JsonText | undefined, counts: Record<string, number>): Promise<void>;
  /** A background write failed (and will be tried again); a refusal (lease lost) is not reported here. */
  failed(error: unknown): void;
  /** A background write succeeded, or the reporter ended: it no longer keeps a store outage on. */
  succeeded(): void;
}

export class AttemptReporter {
  private progressValue: JsonText | undefined;
  private counts: Record<string, number> = {};
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = 0;
  private lastWriteAt = 0;
  private closed = false;
  /** Writes run one after another on this chain; `queued` of them have not ended yet. */
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly settings: ReporterSettings) {}

  progress(value: unknown): void {
    // Checked now, so the handler sees a bad value where it made it.
    this.progressValue = JsonText.of(value ?? null, 'progress', this.settings.maxProgressBytes, this.settings.taskId);
    this.schedule(this.settings.progressEveryMs);
  }

  count(name: string, delta: number): void {
    checkCount(name, delta, this.settings.taskId);
    if (delta === 0) return;
    this.counts[name] = (this.counts[name] ?? 0) + delta;
    this.schedule(this.settings.countsEveryMs);
  }

  /** ctx.heartbeat: writes now (after the writes ahead of it), with `progress` if given; rejects as the write does. */
  writeNow(progress?: unknown): Promise<void> {
    if (progress !== undefined) this.progressValue = JsonText.of(progress, 'progress', this.settings.maxProgressBytes, this.settings.taskId);
    this.clearTimer();
    return this.enqueue(true);
  }

  /** The report still unwritten, to ride on the attempt's outcome, once the writes ahead of it have ended. Ends the reporter. */
  async final(): Promise<AttemptReport | undefined> {
    while (this.queued > 0) await this.chain;
    return this.take();
  }

  /** The report still unwritten, now (a shutdown hands the task back without waiting). Ends the reporter. */
  take(): AttemptReport | undefined {
    this.close();
    const progress = this.progressValue?.text ?? null;
    const counts: CounterDelta[] = Object.entries(this.counts)
      .filter(([, delta]) => delta !== 0)
      .map(([name, delta]) => ({ name, delta }));
    this.progressValue = undefined;
    this.counts = {};
    return progress === null && counts.length === 0 ? undefined : { progress, counts };
  }

  /** The attempt is no longer ours: nothing more is written for it in the background. */
  close(): void {
    if (!this.closed) this.settings.succeeded();
    this.closed = true;
    this.clearTimer();
  }

  private get buffered(): boolean {
    return this.progressValue !== undefined || Object.keys(this.counts).length > 0;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(everyMs: number): void {
    if (this.closed || this.queued > 0) return; // the write ahead schedules what is left when it ends
    const dueAt = Math.max(Date.now(), this.lastWriteAt + everyMs);
    if (this.timer) {
      if (this.timerDueAt <= dueAt) return;
      clearTimeout(this.timer);
    }
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.enqueue(false);
    }, dueAt - Date.now());
  }

  private enqueue(rethrow: boolean): Promise<void> {
    this.queued += 1;
    const run = this.chain.then(() => this.send(rethrow));
    this.chain = run.then(
      () => this.ended(),
      () => this.ended(),
    );
    return run;
  }

  private ended(): void {
    this.queued -= 1;
    this.lastWriteAt = Date.now();
    if (this.queued > 0) return;
    if (this.progressValue !== undefined) this.schedule(this.settings.progressEveryMs);
    else if (this.buffered) this.schedule(this.settings.countsEveryMs);
  }

  /**
   * One write of what is buffered (a background one only if there is something and the attempt
   * is still ours). A failure puts it back, behind any newer progress, to be tried again.
   */
  private async send(rethrow: boolean): Promise<void> {
    if (!rethrow && (this.closed || !this.buffered)) return;
    const progress = this.progressValue;
    const counts = this.counts;
    this.progressValue = undefined;
    this.counts = {};
    try {
      await this.settings.write(progress, counts);
      if (!rethrow) this.settings.succeeded();
    } catch (error) {
      if (error instanceof TasklockError && (error.code === 'lease-lost' || error.code === 'task-not-found')) {
        // Refused by the fence: nothing landed, and nothing more will for this attempt.
        this.close();
      } else {
        this.progressValue ??= progress;
        for (const [name, delta] of Object.entries(counts)) this.counts[name] = (this.counts[name] ?? 0) + delta;
        if (!rethrow) this.settings.failed(error);
      }
      if (rethrow) throw error;
    }
  }
}
