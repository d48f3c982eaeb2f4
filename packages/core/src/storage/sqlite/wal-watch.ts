import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ChangeSignal } from '../store.js';

/**
 * How an idle worker learns that something changed without spinning: every commit by any
 * process writes to `<db>-wal`, so an inotify/FSEvents watch wakes the worker at once (the
 * worker then looks again over the next milliseconds: the write comes just before the commit is
 * visible); a capped, backing-off timer covers platforms and filesystems where watching
 * fails. The directory is watched, not the file, so the watch survives the WAL being deleted
 * and recreated (SQLite removes it when the last connection closes). fs.watch holds no descriptor on the database files, so it
 * cannot drop SQLite's POSIX locks the way opening and closing one in this process would.
 */
export class WalWatch implements ChangeSignal {
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

  notify(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = null;
      wake();
    } else {
      this.pending = true;
    }
  }

  /** Resolves true on the next notify() (or one that came since the last wait), false after `ms`. */
  waitForChange(ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
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

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    this.notify();
  }
}
