/**
 * Each handler run is a span: `tasklock.run <type>`, kind CONSUMER, with task id, type, attempt,
 * queue and worker as attributes, and the run's outcome set when it ends (error status on a
 * failure). The span is LINKED to the producer's context (the task's trace_context), not its
 * child: a run may start long after the enqueue, in another process, once per attempt, and a
 * producer's trace that had to stay open until its tasks' last retry would report durations
 * that mean nothing; a link ties them without that (as OpenTelemetry's messaging conventions do
 * for consumers). The span is the active context while the handler runs, so the handler's own
 * spans are its children.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { ClaimedTask } from '../task.js';
import { loadOpenTelemetry, type OpenTelemetryApi } from './opentelemetry.js';
import { remoteSpanContext } from './trace-context.js';

/** How an attempt's handler run ended, from the worker's side: its outcome, or taken away (cancel, lease lost, shutdown). */
export type RunEnd = { kind: 'complete' } | { kind: 'fail'; error: string } | { kind: 'aborted'; reason: string };

export class RunTracer {
  private readonly tracer: Tracer;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly workerId: string,
  ) {
    this.tracer = api.trace.getTracer('@tasklock/core');
  }

  start(task: ClaimedTask): RunSpan {
    const producer = task.traceContext === null ? null : remoteSpanContext(this.api, task.traceContext);
    const span = this.tracer.startSpan(`tasklock.run ${task.type}`, {
      kind: this.api.SpanKind.CONSUMER,
      root: true,
      links: producer === null ? [] : [{ context: producer }],
      attributes: {
        'tasklock.task.id': task.id,
        'tasklock.task.type': task.type,
        'tasklock.task.attempt': task.attempts,
        'tasklock.queue': task.queue,
        'tasklock.worker.id': this.workerId,
        'messaging.system': 'tasklock',
        'messaging.operation': 'process',
      },
    });
    return new RunSpan(this.api, span);
  }
}

export class RunSpan {
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly span: Span,
  ) {}

  /** Runs `fn` with this span as the active context. */
  run<T>(fn: () => T): T {
    return this.api.context.with(this.api.trace.setSpan(this.api.context.active(), this.span), fn);
  }

  end(end: RunEnd): void {
    const outcome = end.kind === 'complete' ? 'succeeded' : end.kind === 'fail' ? 'failed' : 'aborted';
    this.span.setAttribute('tasklock.outcome', outcome);
    if (end.kind !== 'complete') {
      const text = end.kind === 'fail' ? end.error : end.reason;
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: text.split('\n', 1)[0] });
    }
    this.span.end();
  }
}

/** A worker's run tracer, or null when @opentelemetry/api is not installed. */
export async function loadRunTracer(workerId: string): Promise<RunTracer | null> {
  const api = await loadOpenTelemetry();
  return api === null ? null : new RunTracer(api, workerId);
}
