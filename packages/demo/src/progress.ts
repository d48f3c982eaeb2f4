import type { QueueStats, TaskStatus } from '@tasklock/core';

const SHOWN: readonly TaskStatus[] = ['pending', 'running', 'succeeded', 'failed'];

/**
 * Live progress: one line rewritten in place on a terminal, a plain line per update otherwise
 * (a log file or CI keeps every line readable).
 */
export class Progress {
  private readonly tty = process.stdout.isTTY === true;
  private last = { at: performance.now(), done: 0 };
  private drawn = false;

  constructor(private readonly startedAt: number) {}

  /** `final`: the closing line shows the average rate over the whole run, not the last interval's. */
  update(stats: QueueStats, final = false): void {
    const now = performance.now();
    const done = stats.counts.succeeded + stats.counts.failed + stats.counts.cancelled;
    const since = final ? { at: this.startedAt, done: 0 } : this.last;
    const rate = ((done - since.done) * 1000) / Math.max(1, now - since.at);
    this.last = { at: now, done };
    const elapsed = ((now - this.startedAt) / 1000).toFixed(1).padStart(5);
    const counts = SHOWN.map((status) => `${status} ${String(stats.counts[status]).padStart(4)}`).join('  ');
    const line = `${elapsed}s  ${counts}  ${String(Math.round(rate)).padStart(5)} tasks/s${final ? ' on average' : ''}`;
    if (this.tty) {
      process.stdout.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      process.stdout.write(`${line}\n`);
    }
  }

  /** A message between updates, on its own line. */
  note(message: string): void {
    this.end();
    process.stdout.write(`${message}\n`);
  }

  end(): void {
    if (this.drawn) process.stdout.write('\n');
    this.drawn = false;
  }
}
