import type { LockBackend } from './lock-backend.js';

/**
 * No cross-process lock: exclusion rests on SQLite's own BEGIN IMMEDIATE and busy_timeout.
 * Transactions stay atomic, but waits are unfair (SQLite's busy handler sleeps and polls) and a
 * writer can starve past the busy timeout. The last resort, chosen only when nothing else works.
 */
export class NoLock implements LockBackend {
  readonly strategy = 'none' as const;
  constructor(readonly path: string) {}
  async acquire(): Promise<void> {}
  assertHeld(): void {}
  async release(): Promise<void> {}
  close(): void {}
}
