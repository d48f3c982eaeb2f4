import { BadInputError } from '../../../errors.js';

/**
 * Every strategy, strongest first: `auto` falls back along this order.
 *   os        an OS advisory lock on `<db>.lock` (os-lock.ts); the kernel frees it when its holder dies
 *   lockfile  proper-lockfile's mkdir lock with a heartbeat (lockfile-lock.ts), where OS locks fail
 *   none      no lock: SQLite's busy_timeout alone
 */
export const LOCK_STRATEGIES = ['os', 'lockfile', 'none'] as const;
export type LockStrategy = (typeof LOCK_STRATEGIES)[number];
export type LockStrategyOption = 'auto' | LockStrategy;

/** The name schema 2 and earlier gave the OS lock; still understood in options and in old databases' meta. */
const LEGACY_NAMES: Readonly<Record<string, LockStrategy>> = { flock: 'os' };

export function isLockStrategy(value: unknown): value is LockStrategy {
  return (LOCK_STRATEGIES as readonly unknown[]).includes(value);
}

/** A strategy option as given (`auto`, a strategy, or a legacy name); anything else is bad input. */
export function parseLockStrategy(value: unknown): LockStrategyOption {
  if (value === 'auto' || isLockStrategy(value)) return value;
  const renamed = typeof value === 'string' ? LEGACY_NAMES[value] : undefined;
  if (renamed !== undefined) return renamed;
  throw new BadInputError(`lock strategy must be auto, ${LOCK_STRATEGIES.join(', ')}, not ${String(value)}`);
}

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
