/**
 * After the run: read every task, its runs and its events straight from the database and
 * compare with what the payloads say must have happened.
 */
import type { Queue, TaskStatus } from '@tasklock/core';
import { isTerminal } from '@tasklock/core';
import { expectedCounts } from './tasks.js';
import type { DemoKind } from './handler.js';

export interface Tally {
  total: number;
  byStatus: Record<TaskStatus, number>;
  /** kind → status → count */
  byKind: Record<DemoKind, Partial<Record<TaskStatus, number>>>;
  /** Failed attempts that went back to pending. */
  retries: number;
  /** 'reclaim' events naming the crashed worker: its tasks handed to the others. */
  reclaimedFromCrashed: number;
  /** Tasks reclaimed from the crashed worker that then finished elsewhere. */
  reclaimedFinished: number;
  problems: string[];
}

const KINDS: readonly DemoKind[] = ['noop', 'slow', 'flaky', 'doomed'];

export async function verify(queue: Queue, taskCount: number, crashed: string | null): Promise<Tally> {
  const byStatus: Record<TaskStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const byKind = Object.fromEntries(KINDS.map((kind) => [kind, {}])) as Tally['byKind'];
  const problems: string[] = [];
  let total = 0;
  let retries = 0;
  let reclaimedFromCrashed = 0;
  let reclaimedFinished = 0;
  for (let after = 0; ; ) {
    const page = await queue.list({ afterId: after, limit: 1000 });
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    for (const task of page) {
      total += 1;
      byStatus[task.status] += 1;
      const kind = task.type.replace(/^demo\./, '') as DemoKind;
      const counts = byKind[kind] ?? (problems.push(`task ${task.id} has unexpected type ${task.type}`), {});
      counts[task.status] = (counts[task.status] ?? 0) + 1;
      if (!isTerminal(task.status)) problems.push(`task ${task.id} is still ${task.status}`);
      const events = await queue.events(task.id);
      const completes = events.filter((e) => e.transition === 'complete').length;
      if (completes !== (task.status === 'succeeded' ? 1 : 0)) problems.push(`task ${task.id} (${task.status}) was completed ${completes} times`);
      retries += events.filter((e) => e.transition === 'fail' && e.to_status === 'pending').length;
      const lost = events.filter((e) => e.transition === 'reclaim' && e.worker_id === crashed).length;
      reclaimedFromCrashed += lost;
      if (lost > 0 && isTerminal(task.status)) reclaimedFinished += 1;
      const runs = await queue.runs(task.id);
      if (runs.length !== task.attempts) problems.push(`task ${task.id}: ${runs.length} runs for ${task.attempts} attempts`);
    }
  }
  if (total !== taskCount) problems.push(`expected ${taskCount} tasks, found ${total}`);
  const expected = expectedCounts(taskCount);
  for (const kind of KINDS) {
    const want: TaskStatus = kind === 'doomed' ? 'failed' : 'succeeded';
    const got = byKind[kind][want] ?? 0;
    if (got !== expected[kind]) problems.push(`${expected[kind]} ${kind} task(s) should have ${want}, ${got} did`);
  }
  return { total, byStatus, byKind, retries, reclaimedFromCrashed, reclaimedFinished, problems };
}

