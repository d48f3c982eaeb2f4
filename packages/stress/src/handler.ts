import { appendFileSync } from 'node:fs';
import type { TaskContext } from '@tasklock/core';

/**
 * The stress workload's task handler, loaded by `tasklock worker --handler`. Every execution
 * first appends "<task id> <attempt> <pid>" to $TASKLOCK_STRESS_EFFECTS — the side effect the
 * checker compares with the database — then behaves as the payload's kind says.
 */
export interface StressPayload {
  kind: 'ok' | 'slow' | 'flaky' | 'doomed';
  ms?: number;
}

const effects = process.env.TASKLOCK_STRESS_EFFECTS;

export default async function handle(payload: StressPayload, ctx: TaskContext): Promise<unknown> {
  if (effects) appendFileSync(effects, `${ctx.id} ${ctx.attempt} ${process.pid}\n`);
  switch (payload.kind) {
    case 'slow':
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, payload.ms ?? 20);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
      return { slept: payload.ms };
    case 'flaky':
      if (ctx.attempt === 1) throw new Error('flaky: first attempt fails');
      return { attempt: ctx.attempt };
    case 'doomed':
      throw new Error('doomed: always fails');
    default:
      return { ok: true };
  }
}
