/**
 * enqueue: (new) → pending. Inputs: validated NewTasks. With a unique key, a live task (pending
 * or running) holding that key is returned instead of inserting (idempotent enqueue): the
 * partial unique index tasks_unique_live_key decides, against any other writer. created_at is
 * the server's now; a delay is measured from it (a run_at the caller gave is kept as given). The
 * row is the enqueue's only record: the event log derives its event from created_at.
 */
import type { NewTask, TaskRow } from '../../rows.js';
import { type Client, nowOf } from './fragments.js';

export async function insertTasks(client: Client, tasks: readonly NewTask[]): Promise<{ row: TaskRow; created: boolean }[]> {
  const serverNow = await nowOf(client);
  const created: { row: TaskRow; created: boolean }[] = [];
  for (const task of tasks) {
    const { rows } = await client.query<TaskRow>(
      `INSERT INTO tasklock.tasks (type, queue, status, priority, payload, max_attempts, backoff, unique_key, timeout_ms, run_at, created_at, updated_at)
       VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $10)
       ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running') DO NOTHING
       RETURNING *`,
      [task.type, task.queue, task.priority, task.payload, task.maxAttempts, task.backoff, task.uniqueKey, task.timeoutMs, task.delayMs === null ? task.runAt : serverNow + task.delayMs, serverNow],
    );
    if (rows[0] !== undefined) {
      created.push({ row: rows[0], created: true });
      continue;
    }
    const live = await client.query<TaskRow>("SELECT * FROM tasklock.tasks WHERE unique_key = $1 AND status IN ('pending', 'running')", [task.uniqueKey]);
    created.push({ row: live.rows[0]!, created: false });
  }
  return created;
}
