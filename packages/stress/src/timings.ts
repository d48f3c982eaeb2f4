import { openRunDatabase } from './run-database.js';

export interface Timings {
  claims: number;
  completes: number;
  spanMs: number;
  /** enqueue → first claim, ms */
  startP50: number;
  startP99: number;
}

/** Throughput and start latency of a run, read back from the event log (claims and ends derived from runs: task_event_log). */
export async function readTimings(location: string): Promise<Timings> {
  const db = await openRunDatabase(location);
  try {
    const [span] = await db.all<{ a: number | null; b: number | null; claims: number | null; completes: number | null }>(
      "SELECT min(at) AS a, max(at) AS b, count(CASE WHEN transition = 'claim' THEN 1 END) AS claims, count(CASE WHEN transition = 'complete' THEN 1 END) AS completes FROM task_event_log",
    );
    const waits = (
      await db.all<{ wait: number }>('SELECT r.started_at - t.created_at AS wait FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE r.attempt = 1 ORDER BY wait')
    ).map((r) => r.wait);
    const quantile = (p: number) => (waits.length === 0 ? 0 : waits[Math.min(waits.length - 1, Math.floor(p * waits.length))]!);
    return {
      claims: span?.claims ?? 0,
      completes: span?.completes ?? 0,
      spanMs: (span?.b ?? 0) - (span?.a ?? 0),
      startP50: quantile(0.5),
      startP99: quantile(0.99),
    };
  } finally {
    await db.close();
  }
}
