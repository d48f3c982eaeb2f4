import { watch, type FSWatcher } from 'node:fs';

/**
 * How an idle worker learns that something changed without spinning: every commit by any
 * process appends to `<db>-wal`, so an inotify/FSEvents watch on that path wakes the worker at
 * once; a timer (adaptive, capped) covers platforms and filesystems where watching fails.
 * fs.watch watches the path and holds no descriptor on the file, so it cannot drop SQLite's
 * POSIX locks the way opening and closing a database file in this process would.
 */
export class WakeSignal {
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;
  private pending = false;

  constructor(walPath: string) {
    try {
      this.watcher = watch(walPath, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null;
    }
  }

  get watching(): boolean {
    return this.watcher !== null;
  }

  notify(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = null;
      wake();
    } else {
      this.pending = true;
    }
  }

  /** Resolves on the next notify() (or one that came since the last wait) or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    this.notify();
  }
}
