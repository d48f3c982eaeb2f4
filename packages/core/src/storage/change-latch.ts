/**
 * The waiting half of every change signal (sqlite/wal-watch.ts, postgres/pg-change-signal.ts):
 * one waiter at a time, woken by notify() (this process) or by a change the signal heard while
 * listening; either one that comes while nobody waits is kept for the next wait. A change heard
 * is forgotten on unlisten() (it was not listened for); a notify() never is.
 */
export class ChangeLatch {
  private wake: (() => void) | null = null;
  private notified = false;
  private changed = false;

  notify(): void {
    this.wakeOr(() => (this.notified = true));
  }

  /** Another handle changed something (called by the signal while it listens). */
  heard(): void {
    this.wakeOr(() => (this.changed = true));
  }

  forgetHeard(): void {
    this.changed = false;
  }

  /** Resolves true on the next notify() or heard() (or one that came since the last wait), false after `ms`. */
  waitForChange(ms: number): Promise<boolean> {
    if (this.notified || this.changed) {
      this.notified = this.changed = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private wakeOr(remember: () => void): void {
    const wake = this.wake;
    if (wake) {
      this.wake = null;
      wake();
    } else {
      remember();
    }
  }
}
