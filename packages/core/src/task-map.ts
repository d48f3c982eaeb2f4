/**
 * Compile-time types of a queue's tasks: `Queue<Tasks>` where `Tasks` maps each task type to its
 * payload and result, e.g. `{ email: { payload: { to: string }; result: { messageId: string } } }`.
 * Types only: nothing here exists at run time, and the store checks nothing of it (a payload is
 * JSON in the database whatever the compiler was told).
 */
import type { EnqueueItem, EnqueueOptions } from './validate.js';

export interface TaskShape {
  payload: unknown;
  result: unknown;
}

/**
 * What `Tasks` must be: every property a TaskShape. Written over `Tasks` itself (not as an index
 * signature) so that an interface, which has none, qualifies.
 */
export type TaskMap<Tasks> = { [Type in keyof Tasks]: TaskShape };

/** The default: any type name, any payload and result — untyped use, as before. */
export type LooseTasks = Record<string, { payload: unknown; result: unknown }>;

export type TaskTypeOf<Tasks> = keyof Tasks & string;

/** An enqueueMany item whose payload matches its type. */
export type TypedEnqueueItem<Tasks extends TaskMap<Tasks>> = {
  [Type in TaskTypeOf<Tasks>]: Omit<EnqueueItem, 'type' | 'payload'> & { type: Type; payload: Tasks[Type]['payload'] };
}[TaskTypeOf<Tasks>];

/**
 * enqueue's arguments: a type name, then that type's payload. A union of argument lists rather
 * than a generic method, so that a `Queue<MyTasks>` still passes where a plain `Queue` is expected
 * (a generic method's type parameter would make the two queues' enqueue incomparable).
 */
export type EnqueueArgs<Tasks extends TaskMap<Tasks>> = {
  [Type in TaskTypeOf<Tasks>]: [type: Type, payload: Tasks[Type]['payload'], options?: EnqueueOptions];
}[TaskTypeOf<Tasks>];
