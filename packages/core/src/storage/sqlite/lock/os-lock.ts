import { closeSync, openSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LockTimeoutError, LockUnavailableError, ReadOnlyError } from '../../../errors.js';
import { createWithMode } from '../file-mode.js';
import type { LockBackend } from './lock-backend.js';
import { errorLineWithCode } from '../../../error-text.js';

interface OsLockAddon {
  tryLock(fd: number): boolean;
  waitForLock(fd: number): Promise<void>;
  unlock(fd: number): void;
}

/**
 * Exclusive OS lock on `<db>.lock` through fs-native-extensions: an open-file-description lock
 * (fcntl F_OFD_SETLK) on Linux, flock on macOS, LockFileEx on Windows. The kernel drops it the
 * instant its holder dies, so a SIGKILLed writer never blocks the others.
 *
 * One descriptor per process and database: OFD locks belong to the descriptor, so a second
 * descriptor in the same process would conflict with the first, and closing unrelated
 * descriptors (unlike classic POSIX locks) never drops ours.
 *
 * Waiting: `tryLock` first (≈ 1 µs, no thread); only under contention `waitForLock`, which parks
 * one libuv thread in the kernel's queue until the holder unlocks. We do not use
 * `waitForLockSync`: it would freeze the event loop, and with it heartbeats and every other
 * queue of the process, for as long as another process holds the lock. A kernel wait cannot be
 * cancelled, so a timed-out wait is left running and its lock is handed back the moment it
 * arrives (or reused by the next acquire), never kept by nobody.
 */
export class OsLock implements LockBackend {
  readonly strategy = 'os' as const;
  private readonly addon: OsLockAddon;
  private fd: number;
  private kernelWait: Promise<void> | null = null;
  private someoneWaiting = false;

  constructor(
    readonly path: string,
    fileMode: number,
  ) {
    this.addon = loadAddon();
    const { fd, created } = openLockFile(path, fileMode);
    this.fd = fd;
    try {
      // Probe: a filesystem that cannot lock throws here (ENOLCK, EINVAL, EOPNOTSUPP);
      // a lock held by someone else just returns false, which proves locking works.
      if (this.addon.tryLock(this.fd)) this.addon.unlock(this.fd);
    } catch (error) {
      closeSync(this.fd);
      // Leave no lock file behind: the lockfile strategy we fall back to needs this path for its
      // directory, and refuses a regular file there (it marks a database set up for the os strategy).
      if (created) rmSync(path, { force: true });
      throw new LockUnavailableError(`the filesystem refuses OS locks on ${path}: ${errorLineWithCode(error)}`, {
        cause: error,
      });
    }
  }

  async acquire(timeoutMs: number): Promise<void> {
    if (this.kernelWait === null) {
      if (this.addon.tryLock(this.fd)) return;
      this.kernelWait = this.addon.waitForLock(this.fd).then(
        () => {
          this.kernelWait = null;
          if (!this.someoneWaiting) this.addon.unlock(this.fd);
        },
        (error: unknown) => {
          this.kernelWait = null;
          throw error;
        },
      );
    }
    const wait = this.kernelWait;
    this.someoneWaiting = true;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    try {
      await Promise.race([
        wait,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.someoneWaiting = false;
            reject(new LockTimeoutError(this.path, performance.now() - started));
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  assertHeld(): void {
    // The kernel never takes an OFD lock away from a live descriptor.
  }

  async release(): Promise<void> {
    this.someoneWaiting = false;
    this.addon.unlock(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    // A kernel wait still parked keeps the descriptor busy; closing drops any lock it gets.
    closeSync(this.fd);
    this.fd = -1;
  }
}

function loadAddon(): OsLockAddon {
  // TASKLOCK_OS_LOCK_ADDON names another module to load instead; tests point it at a module
  // that is missing or refuses, to exercise the fallback on a machine where the addon works.
  const name = process.env.TASKLOCK_OS_LOCK_ADDON || 'fs-native-extensions';
  try {
    const addon = createRequire(import.meta.url)(name) as Partial<OsLockAddon>;
    if (typeof addon.tryLock !== 'function' || typeof addon.waitForLock !== 'function') {
      throw new Error(`${name} does not export tryLock/waitForLock`);
    }
    return addon as OsLockAddon;
  } catch (error) {
    throw new LockUnavailableError(`the OS lock addon (${name}) failed to load: ${errorLineWithCode(error)}`, {
      cause: error,
    });
  }
}

/**
 * Opens the lock file read-write (fcntl write locks need it), creating it with `mode` if it is
 * missing; `created` says whether this call made it (exact even when processes race).
 */
function openLockFile(path: string, mode: number): { fd: number; created: boolean } {
  try {
    for (let attempt = 1; ; attempt += 1) {
      const fd = createWithMode(path, mode);
      if (fd !== null) return { fd, created: true };
      try {
        return { fd: openSync(path, 'r+'), created: false };
      } catch (error) {
        // Removed between the two opens (a failed probe elsewhere cleans up its file): create it
        // again. Only a few times: a dangling symlink is "there" for O_EXCL and missing for r+.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw new ReadOnlyError(`cannot create lock file ${path}: read-only filesystem`);
    throw new LockUnavailableError(`cannot open lock file ${path}: ${errorLineWithCode(error)}`, { cause: error });
  }
}

