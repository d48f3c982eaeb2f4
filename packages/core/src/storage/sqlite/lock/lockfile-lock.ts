import * as nodeFs from 'node:fs';
import { lstatSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../../../backoff.js';
import lockfile from 'proper-lockfile';
import { LockLostError, LockTimeoutError, LockUnavailableError } from '../../../errors.js';
import type { LockBackend } from './lock-backend.js';
import { errorLineWithCode } from '../../../error-text.js';

export interface LockfileOptions {
  /** proper-lockfile declares a lock stale after this long without an mtime refresh (clamped to ≥ 2000 ms). */
  staleMs: number;
}

/**
 * proper-lockfile's mkdir lock on `<db>.lock` (a directory): portable, needs no addon, but a
 * SIGKILLed holder blocks everyone for `stale` ms, and its three sharp edges are handled here:
 *  - a holder whose event loop stalls past `stale` loses the lock to another process: before
 *    COMMIT `assertHeld()` checks that our last mtime refresh is recent enough that nobody could
 *    have declared the lock stale; otherwise the transaction rolls back with LockLostError;
 *  - its `release()` deletes whatever directory is there, even another holder's: we release
 *    only after the same ownership check, and otherwise just forget our record of the lock;
 *  - its default `onCompromised` throws from a timer and kills the process: ours records the
 *    loss, which the next `assertHeld()` reports;
 *  - its stale takeover (stat, see it stale, rmdir, mkdir) is not atomic: two waiters that both
 *    saw the dead holder's directory stale can both succeed, the second removing the first's
 *    fresh directory (our stress audit caught two holders this way). So proper-lockfile is told
 *    never to take over (its `stale` is effectively infinite) and the takeover is ours: under a
 *    second mkdir guard, `<db>.lock.takeover`, the directory is re-checked (same inode, same old
 *    mtime) and only then removed; then everyone races a plain mkdir, which exactly one wins.
 */
export class LockfileLock implements LockBackend {
  readonly strategy = 'lockfile' as const;
  private readonly staleMs: number;
  private release_: (() => Promise<void>) | null = null;
  private compromised: Error | null = null;
  /** Numbers our lock attempts, so that news about an earlier (lost) lock is not taken as news about this one. */
  private attempt = 0;
  /** mtimes this process set on the lock directory, newest last (the latest may still be in flight). */
  private ownMtimes: number[] = [];
  private lastRefresh = 0;
  private readonly fs: typeof nodeFs;

  constructor(
    private readonly dbPath: string,
    readonly path: string,
    options: LockfileOptions,
  ) {
    this.staleMs = Math.max(2000, options.staleMs);
    let existing;
    try {
      existing = lstatSync(path);
    } catch {
      existing = undefined;
    }
    if (existing && !existing.isDirectory()) {
      throw new LockUnavailableError(
        `${path} is a file, the os strategy's lock file: a mkdir lock cannot live there`,
      );
    }
    this.fs = this.observingFs();
  }

  async acquire(timeoutMs: number): Promise<void> {
    const started = performance.now();
    let polls = 0;
    for (;;) {
      this.compromised = null;
      const attempt = ++this.attempt;
      try {
        this.release_ = await lockfile.lock(this.dbPath, {
          lockfilePath: this.path,
          realpath: false,
          retries: 0,
          // Never let proper-lockfile take a stale lock over itself: see takeOverStale().
          stale: NEVER_STALE_MS,
          update: this.staleMs / 2,
          fs: this.fs,
          // proper-lockfile reports a lock we lost (and no longer release) from its refresh timer,
          // possibly only after we locked again: that report must not mark the new lock lost, or
          // release() would leave its directory behind, refreshed by the new lock's own timer.
          onCompromised: (error) => {
            if (attempt === this.attempt) this.compromised = error;
          },
        });
        this.ownMtimes = [statSync(this.path).mtimeMs];
        this.lastRefresh = Date.now();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
          throw new LockUnavailableError(`cannot take mkdir lock ${this.path}: ${errorLineWithCode(error)}`, {
            cause: error,
          });
        }
      }
      if (this.takeOverStale()) continue;
      const waited = performance.now() - started;
      if (waited >= timeoutMs) throw new LockTimeoutError(this.path, waited);
      // proper-lockfile has no wake-up: poll with capped, jittered backoff.
      polls += 1;
      await sleep(Math.min(backoffMs(POLL_BACKOFF, polls), timeoutMs - waited));
    }
  }

  assertHeld(): void {
    const state = this.ownership();
    if (state !== 'ours') throw new LockLostError(`lost the mkdir lock ${this.path}: ${state}`);
  }

  async release(): Promise<void> {
    const release = this.release_;
    this.release_ = null;
    if (release === null) return;
    const state = this.ownership();
    // Only remove the directory while it is still the one we made. If another process took it,
    // leave it alone: proper-lockfile's refresh timer sees the foreign mtime and gives up (our
    // onCompromised records that instead of throwing).
    if (state === 'ours' || state.startsWith('not refreshed')) await release().catch(() => undefined);
  }

  close(): void {
    this.release_ = null;
  }

  /**
   * Removes the lock directory if its holder stopped refreshing it `staleMs` ago (died, or froze),
   * at most one process at a time. Returns true when the caller should try to lock again now.
   */
  private takeOverStale(): boolean {
    let seen;
    try {
      seen = statSync(this.path);
    } catch {
      return true; // released meanwhile
    }
    if (Date.now() - seen.mtimeMs <= this.staleMs) return false;
    const guard = `${this.path}.takeover`;
    try {
      mkdirSync(guard);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LockUnavailableError(`cannot create ${guard}: ${errorLineWithCode(error)}`, { cause: error });
      }
      // Another process is taking over right now (a few syscalls), unless it died doing so.
      try {
        if (Date.now() - statSync(guard).mtimeMs > this.staleMs) rmdirSync(guard);
      } catch {
        // gone already
      }
      return false;
    }
    try {
      let now;
      try {
        now = statSync(this.path);
      } catch {
        return true;
      }
      // Still the very directory we judged stale? Then nobody can refresh or replace it while we
      // hold the guard (a frozen holder that wakes now fails its ownership check before COMMIT).
      if (now.ino !== seen.ino || now.mtimeMs !== seen.mtimeMs) return true;
      rmdirSync(this.path);
      return true;
    } finally {
      rmdirSync(guard);
    }
  }

  /** 'ours', or why not. */
  private ownership(): string {
    if (this.compromised !== null) return `proper-lockfile reports it compromised (${this.compromised.message})`;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch (error) {
      return `the lock directory is gone (${errorLineWithCode(error)})`;
    }
    if (!this.ownMtimes.includes(mtimeMs)) return 'another process replaced the lock directory';
    // Another process may take the lock once its mtime is `stale` old. While our last refresh is
    // younger than 3/4 of `stale` nobody can have; older (an event loop stalled by a long
    // transaction, a frozen process) counts as lost: it may be taken before our COMMIT.
    const age = Date.now() - this.lastRefresh;
    if (age > this.staleMs * 0.75) {
      return `not refreshed for ${age} ms (stale after ${this.staleMs} ms): another process may take it`;
    }
    return 'ours';
  }

  /** node:fs with utimes observed, so we know which mtimes on the lock directory are ours. */
  private observingFs(): typeof nodeFs {
    const utimes = (
      path: nodeFs.PathLike,
      atime: nodeFs.TimeLike,
      mtime: nodeFs.TimeLike,
      callback: nodeFs.NoParamCallback,
    ): void => {
      const mine = path === this.path && mtime instanceof Date;
      if (mine) this.ownMtimes = [...this.ownMtimes.slice(-1), mtime.getTime()];
      nodeFs.utimes(path, atime, mtime, (error) => {
        if (mine && !error) this.lastRefresh = Date.now();
        callback(error);
      });
    };
    return { ...nodeFs, utimes } as typeof nodeFs;
  }
}

/** How often a waiter looks again: from about 1 ms, doubling, up to 25 ms. */
const POLL_BACKOFF = { baseDelayMs: 2, maxDelayMs: 25 };

/** proper-lockfile's `stale`, chosen so that it never declares a lock stale by itself. */
const NEVER_STALE_MS = 2 ** 31;

