/**
 * enqueue: (new) → pending, a batch in one INSERT … SELECT FROM unnest(…) WITH ORDINALITY, in
 * the order given (ids grow with it). With a unique key, a live task (pending or running)
 * holding that key is answered instead (idempotent enqueue, created: false): the partial unique
 * index tasks_unique_live_key decides, against any other writer (ON CONFLICT DO NOTHING waits for
 * a concurrent insert of the key to commit or roll back), and a key named twice in one batch is
 * inserted for its first task and answered for the rest. created_at is the server's now; a delay
 * is measured from it (a run_at the caller gave is kept as given). The row is the enqueue's only
 * record: the event log derives its event from created_at.
 */
import { insertedRow, type NewTask, type TaskRow } from '../../rows.js';
import { type Client, NOW, prepared } from './fragments.js';

/**
 * One array per column, index for index ($1 type … $10 delay ms, NULL: $9 run_at as given; $11 trace context).
 * Answers id, unique_key, run_at and created_at of each task inserted (the rest is as given).
 */
export const INSERT_TASKS_SQL = `
  WITH n AS (SELECT ${NOW} AS ms)
  INSERT INTO tasklock.tasks (type, queue, status, priority, payload, max_attempts, backoff, unique_key, timeout_ms, run_at, trace_context, created_at, updated_at)
  SELECT t.type, t.queue, 'pending', t.priority, t.payload, t.max_attempts, t.backoff, t.unique_key, t.timeout_ms,
         CASE WHEN t.delay_ms IS NULL THEN t.run_at ELSE n.ms + t.delay_ms END, t.trace_context, n.ms, n.ms
  FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])
       WITH ORDINALITY AS t (type, queue, priority, payload, max_attempts, backoff, unique_key, timeout_ms, run_at, delay_ms, trace_context, ord), n
  ORDER BY t.ord
  ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running') DO NOTHING
  RETURNING id, unique_key, run_at, created_at`;

interface Inserted {
  id: number;
  unique_key: string | null;
  run_at: number;
  created_at: number;
}

const insert = prepared('insert_tasks', INSERT_TASKS_SQL);

export async function insertTasks(client: Client, tasks: readonly NewTask[]): Promise<{ row: TaskRow; created: boolean }[]> {
  if (tasks.length === 0) return [];
  const column = <T>(of: (task: NewTask) => T) => tasks.map(of);
  const { rows } = await client.query<Inserted>(
    insert([
      column((t) => t.type),
      column((t) => t.queue),
      column((t) => t.priority),
      column((t) => t.payload),
      column((t) => t.maxAttempts),
      column((t) => t.backoff),
      column((t) => t.uniqueKey),
      column((t) => t.timeoutMs),
      column((t) => t.runAt),
      column((t) => t.delayMs),
      column((t) => t.traceContext),
    ]),
  );
  // Ids are drawn in insertion order, which is the order given: the keyless rows by id are the
  // keyless tasks in order; a keyed row belongs to the first task naming its key.
  const keyless = rows.filter((row) => row.unique_key === null).sort((a, b) => a.id - b.id);
  const byKey = new Map(rows.filter((row) => row.unique_key !== null).map((row) => [row.unique_key!, row]));
  const live = await liveByKey(client, tasks, byKey);
  let nextKeyless = 0;
  return tasks.map((task) => {
    if (task.uniqueKey === null) return { row: created(task, keyless[nextKeyless++]!), created: true };
    const mine = byKey.get(task.uniqueKey);
    if (mine !== undefined) {
      byKey.delete(task.uniqueKey);
      const row = created(task, mine);
      live.set(task.uniqueKey, row);
      return { row, created: true };
    }
    return { row: live.get(task.uniqueKey)!, created: false };
  });
}

/** The live tasks holding the keys this batch did not insert (another task of it, or one already there, holds them). */
async function liveByKey(client: Client, tasks: readonly NewTask[], insertedKeys: ReadonlyMap<string, Inserted>): Promise<Map<string, TaskRow>> {
  const held = [...new Set(tasks.map((task) => task.uniqueKey).filter((key): key is string => key !== null && !insertedKeys.has(key)))];
  if (held.length === 0) return new Map();
  const { rows } = await client.query<TaskRow>("SELECT * FROM tasklock.tasks WHERE unique_key = ANY($1::text[]) AND status IN ('pending', 'running')", [held]);
  return new Map(rows.map((row) => [row.unique_key!, row]));
}

function created(task: NewTask, row: Inserted): TaskRow {
  return insertedRow(task, row.id, row.run_at, row.created_at);
}
