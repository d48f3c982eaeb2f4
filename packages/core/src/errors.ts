/**
 * One error family for everything tasklock raises. `code` is stable (scripts and the CLI
 * branch on it); `taskId` and `sqliteCode` are set wherever they are known, so a log line
 * always says which task and which SQLite failure. The CLI maps codes to exit codes in one place.
 */
export type TasklockErrorCode =
  | 'bad-input'
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
  | 'database-closed';

export interface TasklockErrorOptions {
  taskId?: number | undefined;
  sqliteCode?: string | undefined;
  cause?: unknown;
}

export class TasklockError extends Error {
  readonly code: TasklockErrorCode;
  readonly taskId: number | undefined;
  readonly sqliteCode: string | undefined;

  constructor(code: TasklockErrorCode, message: string, options: TasklockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.taskId = options.taskId;
    this.sqliteCode = options.sqliteCode ?? sqliteCodeOf(options.cause);
  }
}

/** Input that can never succeed as given: malformed JSON, out-of-range option, oversized payload. */
export class BadInputError extends TasklockError {
  constructor(message: string, options?: TasklockErrorOptions) {
    super('bad-input', message, options);
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

/** A write that SQLite refused; nothing of it was kept. */
export class PersistenceError extends TasklockError {
  constructor(message: string, options?: TasklockErrorOptions) {
    super('persistence', message, options);
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

export function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

export function isBusy(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const TRANSIENT_SQLITE = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL'];

/**
 * A write that may succeed if simply tried again later: the disk was full or failed, the lock or
 * the database stayed busy, the lock was lost. Not bad input, a read-only database, a schema
 * mismatch or a closed database: those stay as they are however long one waits.
 */
export function isTransientWriteError(error: unknown): boolean {
  if (error instanceof LockTimeoutError || error instanceof LockLostError) return true;
  if (!(error instanceof PersistenceError)) return false;
  const code = error.sqliteCode;
  return code !== undefined && TRANSIENT_SQLITE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`));
}
