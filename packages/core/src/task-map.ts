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

export type TaskMap = Record<string, TaskShape>;

/** The default: any type name, any payload and result — untyped use, as before. */
export type LooseTasks = Record<string, { payload: unknown; result: unknown }>;

export type TaskTypeOf<Tasks extends TaskMap> = keyof Tasks & string;

/** An enqueueMany item whose payload matches its type. */
export type TypedEnqueueItem<Tasks extends TaskMap> = {
  [Type in TaskTypeOf<Tasks>]: Omit<EnqueueItem, 'type' | 'payload'> & { type: Type; payload: Tasks[Type]['payload'] };
}[TaskTypeOf<Tasks>];
