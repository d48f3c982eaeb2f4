/**
 * The event stream's cursor (queue.events): the position of an event in the log's delivery order
 * (commit, task_id, attempt, rank, stored id), written as one opaque string
 * "<commit>-<task>-<attempt>-<rank>-<id>". `commit` is the writing transaction's place in commit
 * order (SQLite: write_seq; PostgreSQL: its xid8) as decimal digits; `id` is the stored event's
 * id, 0 for a derived one. Every store gives and takes the same shape.
 */
import { BadInputError } from '../errors.js';

export interface EventCursor {
  commit: string;
  task: number;
  attempt: number;
  rank: number;
  id: number;
}

const SHAPE = /^(\d{1,20})-(\d{1,16})-(\d{1,9})-([0-2])-(\d{1,16})$/;

export function formatCursor(c: EventCursor): string {
  return `${c.commit}-${c.task}-${c.attempt}-${c.rank}-${c.id}`;
}

/** The cursor `text` names; BadInputError when it is not one a store gave. */
export function parseCursor(text: string): EventCursor {
  const match = SHAPE.exec(text);
  if (match === null) throw new BadInputError(`not an event cursor: ${JSON.stringify(text)} (give the id of an event the stream delivered)`);
  return { commit: match[1]!.replace(/^0+(?=\d)/, ''), task: Number(match[2]), attempt: Number(match[3]), rank: Number(match[4]), id: Number(match[5]) };
}

/** Before every event: where a stream with no `after` starts. */
export const START: EventCursor = { commit: '0', task: 0, attempt: 0, rank: 0, id: 0 };
