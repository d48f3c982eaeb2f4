// Reading an export back (packages/core/src/transfer/parse.ts): what a line must be, and the
// rules a task's rows keep; each refusal names its line and imports nothing.
import { describe, expect, it } from 'vitest';
import { readExport } from '@tasklock/core';

const HEADER = JSON.stringify({ format: 'tasklock-export', version: 1, source: { engine: 'sqlite', schemaVersion: 6 }, exportedAt: '2026-11-25T00:00:00.000Z', filter: null, allowRunning: false });

const TASK = {
  id: 7, type: 'mail', queue: 'default', status: 'succeeded', priority: 0, payload: '{"to":"a"}', result: '{"ok":true}', last_error: null, progress: null,
  attempts: 1, max_attempts: 3, released: 0, backoff: '{"baseMs":1000}', unique_key: 'k', timeout_ms: null, run_at: 1, created_at: 1, updated_at: 3,
  finished_at: 3, lease_token: null, lease_expires_at: null, locked_by: null,
};
const RUN = { attempt: 1, worker_id: 'w', lease_token: 't', started_at: 2, finished_at: 3, outcome: 'succeeded', error: null, finished_by: null, handler_pgid: null, handler_start: null, handler_host: null };
const EVENT = { at: 4, transition: 'retry', from_status: 'failed', to_status: 'pending', attempt: 1, worker_id: null, detail: null };

type Line = { task: Record<string, unknown>; runs: Record<string, unknown>[]; events: Record<string, unknown>[] };

function taskLine(change: (line: Line) => void = () => undefined): string {
  const line: Line = { task: { ...TASK }, runs: [{ ...RUN }], events: [] };
  change(line);
  return JSON.stringify(line);
}

function file(...tasks: string[]): string[] {
  const runs = tasks.reduce((n, text) => n + (JSON.parse(text) as Line).runs.length, 0);
  const events = tasks.reduce((n, text) => n + (JSON.parse(text) as Line).events.length, 0);
  return [HEADER, ...tasks, JSON.stringify({ end: { tasks: tasks.length, runs, events } })];
}

async function refusal(lines: string[]): Promise<string> {
  const error = await readExport(lines, 'f').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: 'bad-input' });
  return (error as Error).message;
}

describe('readExport', () => {
  it('reads a whole export: runs and events get their task id back, stored events no id (the target gives one)', async () => {
    const parsed = await readExport([`\uFEFF${HEADER}`, ...file(taskLine((l) => l.events.push(EVENT))).slice(1), ''], 'f');
    expect(parsed.counts).toEqual({ tasks: 1, runs: 1, events: 1 });
    expect(parsed.records).toEqual([{ task: TASK, runs: [{ task_id: 7, ...RUN }], events: [{ id: null, task_id: 7, ...EVENT }] }]);
  });

  it.each([
    ['a field missing', taskLine((l) => delete l.task.queue), /line 2: task lacks the field "queue"/],
    ['a field unknown', taskLine((l) => (l.task.colour = 'red')), /line 2: task has an unknown field "colour"/],
    ['a payload that is not JSON text', taskLine((l) => (l.task.payload = '{nope')), /line 2: task\.payload is not valid JSON text/],
    ['an id of 0', taskLine((l) => (l.task.id = 0)), /line 2: task\.id must be at least 1/],
    ['a time that is not an integer', taskLine((l) => (l.task.run_at = 1.5)), /line 2: task\.run_at must be an integer, got 1\.5/],
    ['a derived event stored', taskLine((l) => l.events.push({ ...EVENT, transition: 'complete' })), /line 2: events\[0\]\.transition must be one of reclaim, cancel, retry/],
    ['a running task without its lease', taskLine((l) => Object.assign(l.task, { status: 'running', finished_at: null })), /task 7: lease_token, lease_expires_at and locked_by must be set exactly when it is running/],
    ['a lease on a finished task', taskLine((l) => (l.task.locked_by = 'w')), /task 7: lease_token, .* exactly when it is running/],
    ['an open run of a finished task', taskLine((l) => Object.assign(l.runs[0]!, { outcome: 'running', finished_at: null })), /task 7: only the last run of a running task is open/],
    ['runs out of order', taskLine((l) => (l.runs[0]!.attempt = 2)), /task 7: runs must be attempts 1 to 1 in order; run 1 is attempt 2/],
    ['released beyond attempts', taskLine((l) => (l.task.released = 2)), /task 7: released \(2\) exceeds attempts \(1\)/],
  ])('refuses %s, naming the line', async (_what, line, message) => {
    expect(await refusal(file(line))).toMatch(message);
    expect(await refusal(file(line))).toMatch(/^import: f line 2: .*; nothing was imported$/);
  });

  it('refuses a live unique key twice (a finished task may share it), counts that do not match, a line after the end, an empty input', async () => {
    const pending = (id: number) => taskLine((l) => Object.assign(l.task, { id, status: 'pending', attempts: 0, result: null, finished_at: null }) && (l.runs = []));
    expect((await readExport(file(taskLine(), pending(8)), 'f')).records).toHaveLength(2);
    expect(await refusal(file(pending(8), pending(9)))).toMatch(/line 3: unique key "k" is held by another live task, on line 2/);
    const lines = file(taskLine());
    expect(await refusal([...lines.slice(0, -1), JSON.stringify({ end: { tasks: 2, runs: 1, events: 0 } })])).toMatch(/line 3: the end line counts 2 task\(s\), 1 run\(s\), 0 event\(s\) but the file holds 1, 1, 0/);
    expect(await refusal([...lines, taskLine()])).toMatch(/line 4: a line after the end line/);
    expect(await refusal([])).toBe('import: f is empty: not a tasklock export; nothing was imported');
    expect(await refusal(['{"format":"csv"}'])).toMatch(/line 1: not a tasklock export/);
  });
});
