import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ChangeLatch } from '../change-latch.js';
import type { ChangeSignal } from '../store.js';

/**
 * How an idle worker learns that something changed without spinning: every commit by any
 * process writes to `<db>-wal`, so an inotify/FSEvents watch, held only while listening (an
 * idle worker), wakes the worker at once (the
 * worker then looks again over the next milliseconds: the write comes just before the commit is
 * visible); a capped, backing-off timer covers platforms and filesystems where watching
 * fails. The directory is watched, not the file, so the watch survives the WAL being deleted
 * and recreated (SQLite removes it when the last connection closes). fs.watch holds no descriptor on the database files, so it
 * cannot drop SQLite's POSIX locks the way opening and closing one in this process would.
 */
export class WalWatch implements ChangeSignal {
  private watcher: FSWatcher | null = null;
  private readonly latch = new ChangeLatch();
  /** Watching failed here once (no inotify, too many watches…): the timer alone wakes from now on. */
  private unavailable = false;
  private closed = false;

  constructor(private readonly walPath: string) {}

  async listen(): Promise<void> {
    if (this.watcher !== null || this.unavailable || this.closed) return;
    const walName = basename(this.walPath);
    try {
      this.watcher = watch(dirname(this.walPath), { persistent: false }, (_event, name) => {
        if (name === null || name === walName) this.latch.heard();
      });
      this.watcher.on('error', () => {
        this.unavailable = true;
        this.unlisten();
      });
    } catch {
      this.unavailable = true;
    }
  }

  unlisten(): void {
    this.watcher?.close();
    this.watcher = null;
    this.latch.forgetHeard();
  }

  notify(): void {
    this.latch.notify();
  }

  waitForChange(ms: number): Promise<boolean> {
    return this.latch.waitForChange(ms);
  }

  close(): void {
    this.closed = true;
    this.unlisten();
    this.notify();
  }
}
