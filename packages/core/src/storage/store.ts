/**
 * What the queue and the worker may know about the store under them, whatever the engine.
 * (The TaskStore interface itself — one async operation per transaction — grows here.)
 */

/** Engine, where it lives and how it excludes writers: what `init`, `doctor` and logs print. */
export interface StoreDescription {
  engine: 'sqlite';
  /** The engine's own version (SQLite's library version). */
  engineVersion: string;
  /** Where the data lives: a database file path. */
  location: string;
  /** How writers exclude one another (SQLite: the write-lock strategy). */
  lock: { strategy: string; path: string };
  schemaVersion: number;
  /** Schema versions this process's open applied (empty: it was up to date). */
  appliedMigrations: readonly number[];
}

/**
 * Wakes a waiter when another process may have written: the WAL watch on SQLite (LISTEN/NOTIFY
 * on a server store). A hint, never a promise: waiters look again on their own schedule too.
 */
export interface ChangeSignal {
  /** Resolves true when woken by a change or notify(), false when `timeoutMs` ran out. */
  wait(timeoutMs: number): Promise<boolean>;
  /** Wakes the current waiter (this process changed something, or is stopping). */
  notify(): void;
  close(): void;
}

/** One check of `doctor`: what the store (or the queue) found, and what to do about it. */
export interface DiagnosisCheck {
  name: string;
  ok: boolean;
  /** Worth acting on, but not wrong in itself: printed as `warn`, and the exit code stays 0. */
  warning?: boolean;
  detail: string;
  /** file-modes: each file checked, with its mode as chmod writes it ("0600"). */
  files?: { path: string; mode: string }[];
}
