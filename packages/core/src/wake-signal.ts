import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * How an idle worker learns that something changed without spinning: every commit by any
 * process writes to `<db>-wal`, so an inotify/FSEvents watch wakes the worker at once; a timer
 * (capped) covers platforms and filesystems where watching fails. The directory is watched,
 * not the file, so the watch survives the WAL being deleted and recreated (SQLite removes it
 * when the last connection closes). fs.watch holds no descriptor on the database files, so it
 * cannot drop SQLite's POSIX locks the way opening and closing one in this process would.
 */
export class WakeSignal {
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;
  private pending = false;

  constructor(walPath: string) {
    const walName = basename(walPath);
    try {
      this.watcher = watch(dirname(walPath), { persistent: false }, (_event, name) => {
        if (name === null || name === walName) this.notify();
      });
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
