/**
 * awaited: marks tasks someone waits for (queue.waitFor), so that their completion NOTIFYs the
 * end channel (fragments.ts notifyEndIfAwaited) and deletes the mark. One statement, no lock on
 * the task's row; a mark already there is kept. A mark of a task that never completes (failed,
 * cancelled, unknown) stays until the task is purged (purgeTasks).
 */
import type { OneStatement } from '../pg-write.js';

export async function markAwaited(db: OneStatement, ids: readonly number[]): Promise<void> {
  await db.query(
    'INSERT INTO tasklock.awaited (task_id) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING',
    [ids],
  );
}
