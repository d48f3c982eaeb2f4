export type LockStrategy = 'flock' | 'lockfile' | 'none';
export type LockStrategyOption = 'auto' | LockStrategy;

/** Every strategy, strongest first: `auto` falls back along this order. */
export const LOCK_STRATEGIES: readonly LockStrategy[] = ['flock', 'lockfile', 'none'];

/**
 * One cross-process lock mechanism. A backend is shared by every connection of this process
 * on one database (one descriptor, one lock directory), and callers are serialised by the
 * process mutex in write-lock.ts, so a backend never sees two acquires at once.
 */
export interface LockBackend {
  readonly strategy: LockStrategy;
  readonly path: string;
  /** Resolves once held; rejects with LockTimeoutError after `timeoutMs` of contention. */
  acquire(timeoutMs: number): Promise<void>;
  /** Throws LockLostError when the lock was taken from this process while it thought it held it. */
  assertHeld(): void;
  release(): Promise<void>;
  close(): void;
}
