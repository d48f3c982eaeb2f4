/**
 * What an import may not overwrite in its target, asked the same way by every store inside the
 * import's own transaction: a task id already taken, or a unique key a live task (pending,
 * running) of the target holds while an imported live task carries it too. Either refuses the
 * whole import before anything is written.
 */
import { BadInputError } from '../errors.js';
import type { TaskRecord } from './rows.js';

/** Ids named in a refusal; the rest are counted. */
const NAMED = 5;

/** The imported ids, and the unique keys of the imported live tasks: what the store looks up. */
export function importKeys(records: readonly TaskRecord[]): { ids: number[]; liveKeys: string[] } {
  const ids = records.map((record) => record.task.id);
  const liveKeys = records
    .filter(({ task }) => task.unique_key !== null && (task.status === 'pending' || task.status === 'running'))
    .map(({ task }) => task.unique_key!);
  return { ids, liveKeys };
}

/** The refusal for what the store found (up to NAMED of each), or null when nothing conflicts. */
export function importConflict(takenIds: readonly number[], heldKeys: readonly string[]): BadInputError | null {
  if (takenIds.length > 0) {
    const named = takenIds.slice(0, NAMED).join(', ');
    return new BadInputError(`import: task id(s) ${named}${takenIds.length > NAMED ? ' …' : ''} already exist in the target store; nothing was imported`, {
      taskId: takenIds[0],
    });
  }
  if (heldKeys.length > 0) {
    const named = heldKeys.slice(0, NAMED).map((key) => JSON.stringify(key)).join(', ');
    return new BadInputError(`import: unique key(s) ${named} are held by live tasks of the target store; nothing was imported`);
  }
  return null;
}

/** How many conflicts a store looks up: one more than it names, to know whether to say "…". */
export const CONFLICT_LOOKUP_LIMIT = NAMED + 1;
