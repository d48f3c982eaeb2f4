/**
 * The handler a `tasklock worker` runs: a module's default export (`--handler`) or a shell
 * command (`--exec`, see exec-handler.ts), bounded by the worker's default `--timeout` and
 * settled as soon as its signal aborts. Each attempt runs inside `currentTask`, so that what a
 * handler prints can be told apart by task in the worker's log.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadInputError, TaskFailure, type TaskContext, type TaskHandler } from '@tasklock/core';
import { describeLoadError } from './module-load-error.js';

/** The id of the task whose attempt is running in this async context, if any. */
export const currentTask = new AsyncLocalStorage<number>();

/** Loads `default export async (payload, ctx) => result` from a module path relative to cwd. */
export async function loadModuleHandler(spec: string): Promise<TaskHandler> {
  const path = resolve(process.cwd(), spec);
  if (!existsSync(path)) throw new BadInputError(`handler module ${path} does not exist`);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    // "file:line:column: SyntaxError: …": where it failed, even in a module it imports.
    throw new BadInputError(`cannot load handler module ${path}: ${await describeLoadError(error, path)}`, { cause: error });
  }
  if (typeof loaded.default !== 'function') {
    throw new BadInputError(`handler module ${path} has no default export function (export default async (payload, ctx) => result)`);
  }
  return loaded.default as TaskHandler;
}

/**
 * Wraps a handler so that (a) a task without its own timeout gets `defaultTimeoutMs`, enforced
 * by aborting the handler's signal, and (b) the attempt ends the moment the signal aborts,
 * even if the handler ignores it: the worker's slot and the task's outcome do not wait on a
 * handler that never returns. (A module handler that ignores its signal keeps running in the
 * background; an --exec command is killed.)
 */
export function bounded(handler: TaskHandler, defaultTimeoutMs: number | undefined): TaskHandler {
  return async (payload: unknown, context: TaskContext) => {
    const controller = new AbortController();
    const forward = (): void => controller.abort(context.signal.reason);
    if (context.signal.aborted) forward();
    else context.signal.addEventListener('abort', forward, { once: true });
    const timer =
      defaultTimeoutMs !== undefined && context.task.timeoutMs === null
        ? setTimeout(() => controller.abort(new TaskFailure(`timed out after ${defaultTimeoutMs} ms (worker --timeout)`)), defaultTimeoutMs)
        : undefined;
    try {
      const attempt = currentTask.run(context.id, () => Promise.resolve().then(() => handler(payload, { ...context, signal: controller.signal })));
      return await settleOnAbort(attempt, controller.signal);
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', forward);
    }
  };
}

function settleOnAbort<T>(attempt: Promise<T>, signal: AbortSignal): Promise<T> {
  // After an abort the handler's own late rejection has nobody to report to.
  attempt.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
