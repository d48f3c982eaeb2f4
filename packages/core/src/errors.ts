/**
 * One error family for everything tasklock raises. `code` is stable and engine-neutral (scripts
 * and the CLI branch on it); `taskId` is set wherever it is known, and the engine's own error is
 * kept as `cause`, so a log line says which task and, through `engineCode`, which engine failure
 * (SQLITE_FULL, a PostgreSQL SQLSTATE). The CLI maps codes to exit codes in one place.
 */
export type TasklockErrorCode =
  | 'bad-input'
  | 'store-not-found'
  | 'task-not-found'
  | 'invalid-transition'
  | 'lease-lost'
  | 'lock-timeout'
  | 'lock-unavailable'
  | 'lock-lost'
  | 'lock-strategy-mismatch'
  | 'persistence'
  | 'read-only'
  | 'not-a-database'
  | 'schema-too-new'
  | 'database-closed'
  | 'wait-timeout'
  | 'wait-aborted';

export interface TasklockErrorOptions {
  taskId?: number | undefined;
  /** The engine's (or the OS's) error this one reports. */
  cause?: unknown;
}

export class TasklockError extends Error {
  readonly code: TasklockErrorCode;
  readonly taskId: number | undefined;

  constructor(code: TasklockErrorCode, message: string, options: TasklockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.taskId = options.taskId;
  }

  /** The code of the engine's error behind this one (its `cause` chain), e.g. SQLITE_FULL or ENOSPC. */
  get engineCode(): string | undefined {
    for (let cause = this.cause; typeof cause === 'object' && cause !== null; cause = (cause as { cause?: unknown }).cause) {
      const code = (cause as { code?: unknown }).code;
      if (!(cause instanceof TasklockError) && typeof code === 'string') return code;
    }
    return undefined;
  }
}

/** Input that can never succeed as given: malformed JSON, out-of-range option, oversized payload. */
export class BadInputError extends TasklockError {
  constructor(message: string, options?: TasklockErrorOptions) {
    super('bad-input', message, options);
  }
}

/** The store does not exist yet, and the caller asked not to create it (`create: false`). */
export class StoreNotFoundError extends TasklockError {
  constructor(readonly location: string) {
    super('store-not-found', `no database at ${location}`);
  }
}

export class TaskNotFoundError extends TasklockError {
  constructor(taskId: number) {
    super('task-not-found', `task ${taskId} does not exist`, { taskId });
  }
}

export class InvalidTransitionError extends TasklockError {
  readonly from: string;
  readonly transition: string;
  constructor(taskId: number, transition: string, from: string) {
    super('invalid-transition', `task ${taskId}: cannot ${transition} a task that is ${from}`, { taskId });
    this.from = from;
    this.transition = transition;
  }
}

/** The caller's lease token no longer matches: the task was reclaimed, cancelled or finished elsewhere. */
export class LeaseLostError extends TasklockError {
  readonly currentStatus: string;
  constructor(taskId: number, transition: string, currentStatus: string) {
    super(
      'lease-lost',
      `task ${taskId}: ${transition} rejected, this worker's lease is no longer valid (task is ${currentStatus})`,
      { taskId },
    );
    this.currentStatus = currentStatus;
  }
}

/** The write lock stayed contended past the timeout. Never a reason to proceed unlocked. */
export class LockTimeoutError extends TasklockError {
  constructor(lockPath: string, waitedMs: number) {
    super('lock-timeout', `write lock ${lockPath} still held by another writer after ${Math.round(waitedMs)} ms`);
  }
}

/** A lock strategy cannot work here (addon missing, filesystem refuses, lock file unusable). */
export class LockUnavailableError extends TasklockError {
  constructor(message: string, options?: TasklockErrorOptions) {
    super('lock-unavailable', message, options);
  }
}

/** This process lost the lock while holding it (proper-lockfile declared it stale or compromised). */
export class LockLostError extends TasklockError {
  constructor(message: string) {
    super('lock-lost', message);
  }
}

export class LockStrategyMismatchError extends TasklockError {
  constructor(message: string) {
    super('lock-strategy-mismatch', message);
  }
}

/** A write the engine refused; nothing of it was kept. */
export class PersistenceError extends TasklockError {
  /** Trying again later may succeed (a full or failing disk, a busy engine), as the store judged it. */
  readonly transient: boolean;
  constructor(message: string, options: TasklockErrorOptions & { transient?: boolean } = {}) {
    super('persistence', message, options);
    this.transient = options.transient ?? false;
  }
}

export class ReadOnlyError extends TasklockError {
  constructor(message: string, options?: TasklockErrorOptions) {
    super('read-only', message, options);
  }
}

export class NotADatabaseError extends TasklockError {
  constructor(path: string, options?: TasklockErrorOptions) {
    super('not-a-database', `${path} is not a SQLite database (or it is corrupted)`, options);
  }
}

export class SchemaTooNewError extends TasklockError {
  constructor(path: string, found: number, known: number) {
    super(
      'schema-too-new',
      `${path} has schema version ${found}, newer than this tasklock knows (${known}); upgrade tasklock`,
    );
  }
}

export class DatabaseClosedError extends TasklockError {
  constructor() {
    super('database-closed', 'the database has been closed');
  }
}

/** waitFor: the task had not ended when the wait's time ran out (the task itself is left as it was). */
export class WaitTimeoutError extends TasklockError {
  constructor(taskId: number, readonly timeoutMs: number) {
    super('wait-timeout', `task ${taskId} had not ended after ${timeoutMs} ms of waiting`, { taskId });
  }
}

/** waitFor: the caller's AbortSignal ended the wait (`cause`: the signal's reason); the task is left as it was. */
export class WaitAbortedError extends TasklockError {
  constructor(taskId: number, reason: unknown) {
    super('wait-aborted', `waiting for task ${taskId} was aborted`, { taskId, cause: reason });
    // As DOM's AbortError, for code that tells an abort apart by name.
    this.name = 'AbortError';
  }
}

/**
 * A write that may succeed if simply tried again later: the disk was full or failed, the lock or
 * the engine stayed busy, the lock was lost. Not bad input, a read-only store, a schema
 * mismatch or a closed store: those stay as they are however long one waits.
 */
export function isTransientWriteError(error: unknown): boolean {
  if (error instanceof LockTimeoutError || error instanceof LockLostError) return true;
  return error instanceof PersistenceError && error.transient;
}
