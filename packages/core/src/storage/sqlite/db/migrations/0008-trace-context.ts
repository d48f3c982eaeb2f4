/**
 * Schema version 8: the producer's trace context, stored with the task at enqueue when
 * @opentelemetry/api is installed and a span is active (tracing/trace-context.ts): the W3C
 * traceparent and tracestate as JSON text. NULL otherwise, and for every task of older versions.
 * A worker links the span of each run of the task to it.
 */
export const sql = `
ALTER TABLE tasks ADD COLUMN trace_context TEXT;
`;
