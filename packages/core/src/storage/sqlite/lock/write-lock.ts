import { LockStrategyMismatchError, LockUnavailableError } from '../../../errors.js';
import { checkFileMode, DEFAULT_FILE_MODE } from '../file-mode.js';
import { LOCK_STRATEGIES, parseLockStrategy, type LockBackend, type LockStrategy, type LockStrategyOption } from './lock-backend.js';
import { LockAudit } from './lock-audit.js';
import { LockfileLock } from './lockfile-lock.js';
import { NoLock } from './no-lock.js';
import { OsLock } from './os-lock.js';
import { ProcessMutex } from './process-mutex.js';

export interface WriteLockOptions {
  /** `auto` (default) takes the OS lock, falling back one step at a time where unavailable. */
  strategy?: LockStrategyOption;
  /** Refuse to fall back: a strategy that is unavailable is an error instead of a warning. */
  required?: boolean;
  /** proper-lockfile `stale` (ms, ≥ 2000). */
  staleMs?: number;
  /** The strategy this database was set up with (meta table); `auto` follows it. */
  recorded?: LockStrategy | null;
  /** Mode of the OS lock file if this process creates it (default 0o600). */
  fileMode?: number;
  onWarning?: (message: string) => void;
}

/**
 * The exclusive write lock of one database, shared by every connection of this process on it.
 * Holding it means: no other process and no other connection of this process is inside a
 * tasklock write transaction on this database. It is held only around the short synchronous
 * write transaction, never while a task runs.
 */
export class WriteLock {
  private readonly audit = LockAudit.fromEnv();
  private closed = false;

  private constructor(
    private readonly shared: SharedLock,
    readonly fallbackReasons: readonly string[],
  ) {}

  get strategy(): LockStrategy {
    return this.shared.backend.strategy;
  }

  get path(): string {
    return this.shared.backend.path;
  }

  /** Waits at most `timeoutMs` in all (process mutex + OS lock); throws LockTimeoutError after. */
  async acquire(timeoutMs: number): Promise<void> {
    const started = performance.now();
    await this.shared.mutex.acquire(timeoutMs, this.path);
    try {
      await this.shared.backend.acquire(Math.max(0, timeoutMs - (performance.now() - started)));
    } catch (error) {
      this.shared.mutex.release();
      throw error;
    }
    try {
      this.audit?.enter();
    } catch (error) {
      try {
        await this.shared.backend.release();
      } finally {
        this.shared.mutex.release();
      }
      throw error;
    }
  }

  assertHeld(): void {
    this.shared.backend.assertHeld();
  }

  async release(): Promise<void> {
    try {
      this.audit?.exit();
    } finally {
      try {
        await this.shared.backend.release();
      } finally {
        this.shared.mutex.release();
      }
    }
  }

  /** Drops this handle; the backend (descriptor, lock directory) goes when the last handle does. */
  close(): void {
    // Idempotent: a second close of this handle must not count against the other handles.
    if (this.closed) return;
    this.closed = true;
    this.shared.refs -= 1;
    if (this.shared.refs === 0) {
      this.shared.backend.close();
      registry.delete(this.shared.key);
    }
  }

  static open(dbPath: string, options: WriteLockOptions = {}): WriteLock {
    const lockPath = `${dbPath}.lock`;
    const existing = registry.get(lockPath);
    const wanted = parseLockStrategy(options.strategy ?? 'auto');
    if (existing) {
      // One process, one backend per database: a second strategy here could not exclude the first.
      const strategy = existing.backend.strategy;
      if (wanted !== 'auto' && wanted !== strategy) {
        throw new LockStrategyMismatchError(
          `${dbPath} is already open in this process with lock strategy ${strategy}; cannot also use ${wanted}`,
        );
      }
      existing.refs += 1;
      return new WriteLock(existing, []);
    }
    const { backend, reasons } = chooseBackend(dbPath, lockPath, wanted, options);
    const shared: SharedLock = { key: lockPath, backend, mutex: new ProcessMutex(), refs: 1 };
    registry.set(lockPath, shared);
    return new WriteLock(shared, reasons);
  }
}

interface SharedLock {
  key: string;
  backend: LockBackend;
  mutex: ProcessMutex;
  refs: number;
}

const registry = new Map<string, SharedLock>();


function chooseBackend(
  dbPath: string,
  lockPath: string,
  wanted: LockStrategyOption,
  options: WriteLockOptions,
): { backend: LockBackend; reasons: string[] } {
  const recorded = options.recorded ?? null;
  if (wanted !== 'auto' && recorded !== null && wanted !== recorded) {
    throw new LockStrategyMismatchError(
      `${dbPath} is set up for lock strategy ${recorded}, not ${wanted}: processes with different ` +
        'strategies do not exclude each other (use the same --lock, or stop every process and ' +
        're-run init with --reset-lock-strategy)',
    );
  }
  // `auto` follows the strategy the database was set up with: every process must use one that
  // excludes the others, and the best one available here may not be the one already in use.
  const first: LockStrategy = wanted === 'auto' ? (recorded ?? LOCK_STRATEGIES[0]) : wanted;
  // Only `auto` falls back, and only on a database not yet set up: an explicit strategy means
  // that strategy, and a recorded one is what every other process uses.
  const canFallBack = wanted === 'auto' && recorded === null && !options.required;
  const reasons: string[] = [];
  for (const strategy of LOCK_STRATEGIES.slice(LOCK_STRATEGIES.indexOf(first))) {
    try {
      const backend = createBackend(strategy, dbPath, lockPath, options);
      if (reasons.length > 0) {
        options.onWarning?.(
          `tasklock: lock strategy ${first} unavailable (${reasons.join('; ')}); using ${strategy}`,
        );
      }
      return { backend, reasons };
    } catch (error) {
      if (!(error instanceof LockUnavailableError)) throw error;
      reasons.push(error.message);
      if (!canFallBack) break;
    }
  }
  const why = reasons.join('; ');
  if (wanted === 'auto' && recorded !== null && !options.required) {
    throw new LockStrategyMismatchError(
      `${dbPath} is set up for lock strategy ${recorded}, which is unavailable here (${why}); ` +
        'every process on one database must use the same strategy',
    );
  }
  throw new LockUnavailableError(`lock strategy ${first} is unavailable here: ${why}`);
}

function createBackend(
  strategy: LockStrategy,
  dbPath: string,
  lockPath: string,
  options: WriteLockOptions,
): LockBackend {
  switch (strategy) {
    case 'os':
      return new OsLock(lockPath, checkFileMode(options.fileMode ?? DEFAULT_FILE_MODE));
    case 'lockfile':
      return new LockfileLock(dbPath, lockPath, { staleMs: options.staleMs ?? 10_000 });
    case 'none':
      return new NoLock(lockPath);
  }
}

