/**
 * The demo's task handler (`tasklock worker --handler dist/demo/handler.js`). What a task does
 * is in its payload, so the demo knows in advance how every task must end:
 *   noop    returns at once                       → succeeded
 *   slow    sleeps `ms` (abortably)                → succeeded
 *   flaky   throws on attempt 1, then succeeds     → succeeded after one retry
 *   doomed  throws on every attempt                → failed once its attempts run out
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskContext } from '@tasklock/core';

export type DemoKind = 'noop' | 'slow' | 'flaky' | 'doomed';

export interface DemoPayload {
  kind: DemoKind;
  n: number;
  ms?: number;
}

export default async function demoHandler(payload: unknown, context: TaskContext): Promise<unknown> {
  const task = payload as DemoPayload;
  switch (task.kind) {
    case 'noop':
      return { n: task.n };
    case 'slow':
      await sleep(task.ms ?? 20, undefined, { signal: context.signal });
      return { n: task.n, sleptMs: task.ms };
    case 'flaky':
      if (context.attempt === 1) throw new Error(`task ${context.id} (flaky) fails on its first attempt`);
      return { n: task.n, attempt: context.attempt };
    case 'doomed':
      throw new Error(`task ${context.id} (doomed) fails on every attempt`);
    default:
      throw new Error(`unknown demo task kind ${JSON.stringify((task as { kind: unknown }).kind)}`);
  }
}
