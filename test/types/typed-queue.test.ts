/**
 * Queue<Tasks> and the handler map, checked by the compiler: `npx tsc -p test` fails when a line
 * marked @ts-expect-error compiles (the check it stands for is gone) or a typed line does not.
 * The test also runs the typed worker, so the map form is exercised at run time too.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { Queue, Worker, type EnqueuedTask, type Task, type TaskContext, type WorkerEventMap } from '@tasklock/core';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

interface MailTasks {
  email: { payload: { to: string; subject: string }; result: { messageId: string } };
  resize: { payload: { url: string; width: number }; result: number };
}

afterEach(() => removeTempDirs());

/** Never called: its body is checked by tsc only. */
function compileOnly(queue: Queue<MailTasks>, loose: Queue): void {
  void queue.enqueue('email', { to: 'a@b.c', subject: 'hi' });
  void queue.enqueue('resize', { url: 'x', width: 10 }, { priority: 1 });
  // @ts-expect-error: a payload of the wrong shape
  void queue.enqueue('email', { to: 'a@b.c' });
  // @ts-expect-error: another type's payload
  void queue.enqueue('email', { url: 'x', width: 10 });
  // @ts-expect-error: a type the map does not name
  void queue.enqueue('sms', {});
  void queue.enqueueMany([
    { type: 'email', payload: { to: 'a', subject: 'b' } },
    { type: 'resize', payload: { url: 'x', width: 1 }, delayMs: 5 },
  ]);
  // @ts-expect-error: an item's payload must match its own type
  void queue.enqueueMany([{ type: 'resize', payload: { to: 'a', subject: 'b' } }]);

  new Worker(queue, {
    email: async (payload, ctx) => {
      expectTypeOf(payload).toEqualTypeOf<{ to: string; subject: string }>();
      expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
      return { messageId: `${payload.to}:${ctx.attempt}` };
    },
    resize: (payload) => payload.width * 2,
  });
  // A map may cover some types only (the worker then claims those).
  new Worker(queue, { resize: (payload) => payload.width });
  new Worker(queue, {
    // @ts-expect-error: a result of the wrong type
    email: async () => ({ messageId: 42 }),
  });
  new Worker(queue, {
    // @ts-expect-error: the handler reads a field its payload does not have
    resize: (payload) => payload.height,
  });
  // @ts-expect-error: a handler for a type the map does not name
  new Worker(queue, { sms: () => 1 });
  // The function form stays loose.
  new Worker(queue, (payload) => payload);

  const typed = new Worker(queue, { email: async () => ({ messageId: 'm' }) });
  typed.on('completed', (event) => {
    // One member per type: a result is its own type's (TS narrows on a top-level field only, so the union here).
    expectTypeOf(event.result).toEqualTypeOf<{ messageId: string } | number>();
    if (event.task.type === 'email') expectTypeOf(event.task.payload).toEqualTypeOf<{ to: string; subject: string }>();
  });
  typed.on('claimed', (event) => expectTypeOf(event.task.payload).toEqualTypeOf<{ to: string; subject: string } | { url: string; width: number }>());
  typed.on('retrying', (event) => expectTypeOf(event.runAt).toEqualTypeOf<number>());
  typed.on('error', (error) => expectTypeOf(error).toEqualTypeOf<Error>());
  // @ts-expect-error: not an event
  typed.on('finished', () => undefined);
  // @ts-expect-error: lease-lost carries a reason, not a result
  typed.on('lease-lost', (event) => event.result);

  // Reads stay loose: what a stored task holds is not known to the compiler.
  expectTypeOf(queue.get).returns.toEqualTypeOf<Promise<Task>>();
  expectTypeOf(queue.enqueue).returns.toEqualTypeOf<Promise<EnqueuedTask>>();

  // A typed queue or worker still goes where a plain one is expected.
  const plain: Queue = queue;
  const plainWorker: Worker = typed;
  void [plain, plainWorker];

  // Untyped use is unchanged: any type name, any payload, any handler.
  void loose.enqueue('anything', { at: 'all' });
  void loose.enqueue('other', 42);
  new Worker(loose, (payload, ctx) => ({ payload, type: ctx.task.type }));
  new Worker(loose, { anything: (payload) => payload });
  new Worker(loose, () => 1).on('completed', (event: WorkerEventMap['completed']) => expectTypeOf(event.result).toEqualTypeOf<unknown>());
}

describe('a typed queue', () => {
  it('runs a handler map: each type its own handler, and the worker claims only the mapped types', async () => {
    expect(compileOnly).toBeTypeOf('function');
    const queue = await Queue.open<MailTasks>(join(makeTempDir(), 'q.db'));
    try {
      const email = await queue.enqueue('email', { to: 'a@b.c', subject: 'hi' });
      const resize = await queue.enqueue('resize', { url: 'x', width: 21 });
      const other = await (queue as unknown as Queue).enqueue('unmapped', {});
      const worker = new Worker(
        queue,
        { email: async (payload) => ({ messageId: `sent to ${payload.to}` }), resize: (payload) => payload.width * 2 },
        { untilEmpty: true, log: () => undefined },
      );
      expect(await worker.start()).toMatchObject({ claimed: 2, succeeded: 2 });
      expect((await queue.get(email.id)).result).toEqual({ messageId: 'sent to a@b.c' });
      expect((await queue.get(resize.id)).result).toBe(42);
      expect((await queue.get(other.id)).status).toBe('pending');
    } finally {
      queue.close();
    }
  });

  it('refuses a map with no handler for a type it is told to claim', async () => {
    const queue = await Queue.open(join(makeTempDir(), 'q.db'));
    try {
      expect(() => new Worker(queue, { a: () => 1 }, { types: ['a', 'b'] })).toThrow('worker has no handler for type(s) b');
      expect(() => new Worker(queue, {})).toThrow('worker handler map has no handlers');
    } finally {
      queue.close();
    }
  });
});
