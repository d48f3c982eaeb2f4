import { InvalidArgumentError, type Command } from 'commander';
import { BadInputError, Queue, StoreNotFoundError, StoreOutage, type LockStrategyOption, type QueueOptions, type WorkerLog } from '@tasklock/core';
import { fileMode } from './options.js';

/** The program-wide options, resolved (defaults applied) for one command. */
export interface GlobalOptions {
  db: string;
  lock: LockStrategyOption;
  lockRequired: boolean;
  /** Mode of the files tasklock creates; undefined: core's default (0600). */
  fileMode: number | undefined;
  json: boolean;
  verbose: boolean;
}

export const DEFAULT_DB = './tasklock.db';

export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{
    db?: string;
    lock?: LockStrategyOption;
    lockRequired?: boolean;
    fileMode?: number;
    json?: boolean;
    verbose?: boolean;
  }>();
  return {
    db: options.db ?? (process.env.TASKLOCK_DB || DEFAULT_DB),
    lock: options.lock ?? 'auto',
    lockRequired: options.lockRequired ?? false,
    fileMode: options.fileMode ?? fileModeFromEnv(),
    json: options.json ?? false,
    verbose: options.verbose ?? false,
  };
}

function fileModeFromEnv(): number | undefined {
  const text = process.env.TASKLOCK_FILE_MODE;
  if (!text) return undefined;
  try {
    return fileMode(text);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new BadInputError(`TASKLOCK_FILE_MODE=${text} is invalid: ${error.message}`);
  }
}

export interface OpenQueueOptions {
  /** init, enqueue and worker may create the database; inspecting commands refuse a missing file. */
  create?: boolean;
  resetLockStrategy?: boolean;
  /**
   * worker: a store that cannot be reached yet (a server restarting, a connection cut while
   * opening) is waited for with backoff, logged once as an outage of the store, rather than an
   * exit — until `giveUp()` says to stop waiting (a signal came).
   */
  waitForStore?: { log: WorkerLog; giveUp: () => boolean };
}

/** The global options as Queue.open takes them: each store's own under its name. */
export function queueOptions(globals: GlobalOptions, options: OpenQueueOptions = {}): QueueOptions {
  return {
    create: options.create ?? false,
    sqlite: {
      lock: globals.lock,
      lockRequired: globals.lockRequired,
      fileMode: globals.fileMode,
      resetLockStrategy: options.resetLockStrategy ?? false,
    },
  };
}

async function openQueue(globals: GlobalOptions, options: OpenQueueOptions): Promise<Queue> {
  const wait = options.waitForStore;
  const outage = wait === undefined ? null : new StoreOutage(wait.log);
  for (;;) {
    try {
      const queue = await Queue.open(globals.db, queueOptions(globals, options));
      outage?.succeeded('open');
      return queue;
    } catch (error) {
      const delayMs = outage?.failed('open', error) ?? null;
      if (delayMs === null || wait!.giveUp()) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Opens the queue, runs `fn`, and closes the queue whatever happens. */
export async function withQueue<T>(
  globals: GlobalOptions,
  fn: (queue: Queue) => T | Promise<T>,
  options: OpenQueueOptions = {},
): Promise<T> {
  let queue: Queue;
  try {
    queue = await openQueue(globals, options);
  } catch (error) {
    // Inspecting commands do not create: that would make an empty database at a mistyped path
    // and report "nothing there".
    if (error instanceof StoreNotFoundError) throw new BadInputError(`${error.message} (create it with: tasklock init --db ${globals.db})`, { cause: error });
    throw error;
  }
  try {
    return await fn(queue);
  } finally {
    queue.close();
  }
}
