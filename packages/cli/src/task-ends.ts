/**
 * Waiting for tasks to end and reporting how they ended: `tasklock wait` and `enqueue --wait`.
 * Exit codes (main.ts maps the errors): 0 every task succeeded; 1 any failed or was cancelled
 * (TasksNotSucceededError, after the report); 2 an unknown id (TaskNotFoundError, at once);
 * 124 the time ran out first (WaitTimeoutError, as timeout(1) exits), after reporting those that
 * had ended.
 */
import { firstLine, TaskNotFoundError, WaitTimeoutError, type Queue, type Task } from '@tasklock/core';
import { logLine, printJson, printLine, taskJson } from './output.js';

/** Some tasks waited for failed or were cancelled: exit 1 (the report is already printed). */
export class TasksNotSucceededError extends Error {
  constructor(readonly ids: readonly number[]) {
    super(`${ids.length === 1 ? `task ${ids[0]}` : `tasks ${ids.join(', ')}`} did not succeed`);
    this.name = 'TasksNotSucceededError';
  }
}

/**
 * The tasks once all have ended, in the order of `ids`, one deadline for all (`timeoutMs`, or
 * none). An unknown id rejects at once; on a timeout the ended ones are reported before it
 * rejects.
 */
export async function waitForEnds(queue: Queue, ids: readonly number[], timeoutMs: number | undefined, report: (tasks: readonly Task[]) => void): Promise<void> {
  const waits = ids.map((id) => queue.waitFor(id, timeoutMs === undefined ? {} : { timeoutMs }));
  // An unknown id is bad input: the answer at once, whatever the other tasks do.
  const unknown = new Promise<never>((_resolve, reject) => {
    for (const wait of waits) wait.catch((error: unknown) => error instanceof TaskNotFoundError && reject(error));
  });
  const settled = await Promise.race([Promise.allSettled(waits), unknown]);
  const ended = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  report(ended);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason instanceof WaitTimeoutError ? timedOut(ids, ended, failure.reason) : failure.reason;
  const bad = ended.filter((task) => task.status !== 'succeeded').map((task) => task.id);
  if (bad.length > 0) throw new TasksNotSucceededError(bad);
}

/** One WaitTimeoutError naming every task still live. */
function timedOut(ids: readonly number[], ended: readonly Task[], first: WaitTimeoutError): WaitTimeoutError {
  const live = ids.filter((id) => !ended.some((task) => task.id === id));
  if (live.length <= 1) return first;
  const error = new WaitTimeoutError(live[0]!, first.timeoutMs);
  error.message = `tasks ${live.join(', ')} had not ended after ${first.timeoutMs} ms of waiting`;
  return error;
}

/** `wait`'s report: `<id> <status> <result as JSON | last error's first line>` per task, or {"tasks": […]}. */
export function reportEnds(tasks: readonly Task[], json: boolean): void {
  if (json) printJson({ tasks: tasks.map(taskJson) });
  else for (const task of tasks) printLine(`${task.id} ${task.status} ${detail(task)}`);
}

/**
 * `enqueue --wait`'s report: each succeeded task's result as one JSON line on stdout, in input
 * order (`result=$(tasklock enqueue … --wait)`); each other end as a line on stderr.
 */
export function reportResults(tasks: readonly Task[], json: boolean): void {
  if (json) return reportEnds(tasks, true);
  for (const task of tasks) {
    if (task.status === 'succeeded') printLine(JSON.stringify(task.result));
    else logLine(`task ${task.id} ${task.status}: ${detail(task)}`);
  }
}

function detail(task: Task): string {
  if (task.status === 'succeeded') return JSON.stringify(task.result);
  return task.lastError === null ? '(no error recorded)' : firstLine(task.lastError);
}
