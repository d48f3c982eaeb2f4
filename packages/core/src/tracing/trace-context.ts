/**
 * The producer's trace context as a task stores it (tasks.trace_context): the active span's W3C
 * traceparent and tracestate, as JSON text. Written from the span context itself rather than
 * through the globally configured propagator, so what is stored is W3C whatever propagator the
 * application set (or none: the API's default propagator injects nothing).
 */
import type { SpanContext } from '@opentelemetry/api';
import type { OpenTelemetryApi } from './opentelemetry.js';

export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The active span's context as stored JSON text; null when no valid span is active. */
export function activeTraceContext(api: OpenTelemetryApi): string | null {
  const span = api.trace.getSpanContext(api.context.active());
  if (span === undefined || !api.trace.isSpanContextValid(span)) return null;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const stored: StoredTraceContext = { traceparent: `00-${span.traceId}-${span.spanId}-${flags}` };
  const tracestate = span.traceState?.serialize();
  if (tracestate) stored.tracestate = tracestate;
  return JSON.stringify(stored);
}

/** A stored context as a remote span context to link to; null when it is not a valid traceparent. */
export function remoteSpanContext(api: OpenTelemetryApi, stored: StoredTraceContext): SpanContext | null {
  const match = TRACEPARENT.exec(stored.traceparent);
  if (match === null) return null;
  const context: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
    traceState: stored.tracestate ? api.createTraceState(stored.tracestate) : undefined,
  };
  return api.trace.isSpanContextValid(context) ? context : null;
}
