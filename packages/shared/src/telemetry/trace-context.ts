// The W3C trace context of a message, carried inside its queue job so the worker's spans join
// the gateway's trace. Without a started SDK these are no-ops.
import { context, propagation, trace, type Context, type Span } from '@opentelemetry/api';

export type TraceCarrier = Record<string, string>;

/** The active context as `traceparent`/`tracestate`; undefined when nothing is traced. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** A context whose parent is the carrier's span (the root context when there is none). */
export function extractTraceContext(carrier: TraceCarrier | undefined): Context {
  return carrier === undefined ? context.active() : propagation.extract(context.active(), carrier);
}

/** The ids a log line carries to find its trace; empty when no span is recording. */
export function traceIdsOf(span: Span | undefined = trace.getActiveSpan()): { trace_id?: string; span_id?: string } {
  if (span === undefined) return {};
  const c = span.spanContext();
  if (!trace.isSpanContextValid(c)) return {};
  return { trace_id: c.traceId, span_id: c.spanId };
}
