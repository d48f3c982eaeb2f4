/**
 * Compile-time types of a queue's tasks: `Queue<Tasks>` where `Tasks` maps each task type to its
 * payload and result, e.g. `{ email: { payload: { to: string }; result: { messageId: string } } }`.
 * Types only: nothing here exists at run time, and the store checks nothing of it (a payload is
 * JSON in the database whatever the compiler was told).
 */
import type { EnqueueItem } from './validate.js';

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
