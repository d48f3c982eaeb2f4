// OpenTelemetry tracing across processes, on SQLite and PostgreSQL: a producer process enqueues
// inside an active span; a worker process (with the SDK and an in-memory exporter) records a
// span per handler run linked to the producer's span. And a process where @opentelemetry/api is
// not installed loads nothing and stores no context.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { fixturePath } from '../utils/fixture-process.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => dropPgDatabases());
afterAll(() => removeTempDirs());

const STORES = {
  sqlite: async () => join(makeTempDir('tasklock-tracing-'), 'q.db'),
  postgres: () => makePgDatabase(),
};

interface RecordedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  status: { code: number; message?: string };
}

async function runFixture(name: string, args: readonly string[], nodeArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<unknown> {
  const result = await execa(process.execPath, [...nodeArgs, fixturePath(name), ...args], { reject: false, timeout: 60_000, env });
  if (result.exitCode !== 0) throw new Error(`${name} exited ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(String(result.stdout));
}

const CONSUMER = 4; // SpanKind.CONSUMER
const ERROR = 2; // SpanStatusCode.ERROR

describe.each(Object.entries(STORES))('tracing on %s', (_engine, makeStore) => {
  it("each run in a worker process is a CONSUMER span linked to the producer process's span, with the task's attributes and outcome", { timeout: 60_000 }, async () => {
    const db = await makeStore();
    const items = [
      { type: 'traced', payload: { n: 1 } },
      { type: 'traced', payload: { fail: true }, maxAttempts: 1 },
    ];
    const produced = (await runFixture('tracing/producer.mjs', [db, JSON.stringify(items)])) as { producer: { traceId: string; spanId: string }; ids: number[] };
    const [okId, failId] = produced.ids;

    // Stored with the task: the producer's span as a W3C traceparent (sampled).
    const queue = await Queue.open(db);
    try {
      const task = await queue.get(okId!);
      expect(task.traceContext).toEqual({ traceparent: `00-${produced.producer.traceId}-${produced.producer.spanId}-01` });
    } finally {
      queue.close();
    }

    const { spans } = (await runFixture('tracing/worker.mjs', [db])) as { spans: RecordedSpan[] };
    const runs = spans.filter((span) => span.name === 'tasklock.run traced');
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.kind).toBe(CONSUMER);
      expect(run.links).toEqual([produced.producer]);
      // Linked, not a child: the run starts a trace of its own.
      expect(run.traceId).not.toBe(produced.producer.traceId);
      expect(run.parentSpanId).toBeNull();
      // The handler's own span is the run span's child.
      const child = spans.find((span) => span.name === 'handler work' && span.parentSpanId === run.spanId);
      expect(child?.traceId).toBe(run.traceId);
    }
    const ok = runs.find((run) => run.attributes['tasklock.task.id'] === okId)!;
    expect(ok.attributes).toMatchObject({ 'tasklock.task.type': 'traced', 'tasklock.task.attempt': 1, 'tasklock.queue': 'default', 'tasklock.outcome': 'succeeded' });
    expect(ok.status.code).not.toBe(ERROR);
    const failed = runs.find((run) => run.attributes['tasklock.task.id'] === failId)!;
    expect(failed.attributes).toMatchObject({ 'tasklock.task.type': 'traced', 'tasklock.task.attempt': 1, 'tasklock.outcome': 'failed' });
    expect(failed.status).toMatchObject({ code: ERROR, message: 'Error: asked to fail' });
  });

  it('without @opentelemetry/api installed, it is looked for once, nothing is loaded, and tasks store no context', { timeout: 60_000 }, async () => {
    const db = await makeStore();
    const dir = mkdtempSync(join(tmpdir(), 'tasklock-hook-'));
    const run = async (hide: boolean) => {
      const log = join(dir, `hook-${hide}.log`);
      writeFileSync(log, '');
      const hook = ['--import', fixturePath('tracing/hide-opentelemetry.mjs')];
      const result = await runFixture('tracing/untraced.mjs', [db], hook, { TRACE_HOOK_LOG: log, TRACE_HOOK_HIDE: hide ? '1' : '0' });
      return { result, log: readFileSync(log, 'utf8') };
    };
    // The control: installed, the same process loads the package (the log sees it) — but with no span active, stores nothing.
    const control = await run(false);
    expect(control.result).toEqual({ status: 'succeeded', traceContext: null });
    expect(control.log).toMatch(/^resolve @opentelemetry\/api\nload file:.*\/node_modules\/@opentelemetry\/api\//);
    // Hidden: one guarded import (the queue's enqueue and the worker share it); no module of it, nor prom-client, loaded.
    const hidden = await run(true);
    expect(hidden.result).toEqual({ status: 'succeeded', traceContext: null });
    expect(hidden.log).toBe('resolve @opentelemetry/api\n');
  });
});
