import { context, propagation, ROOT_CONTEXT, trace, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';

/**
 * Trace context across the log: W3C `traceparent` in a NATS header of the log entry, and a
 * field of the delivery item. Off (no OpenTelemetry SDK loaded, no header, no field, no
 * span) unless the process started tracing (libs/platform tracing.ts): every call site
 * asks `isTracing()` first, a property read per message.
 */
const state = { on: false };

export const isTracing = (): boolean => state.on;

/** Called once the SDK is registered. */
export function tracingStarted(): void {
  state.on = true;
}

/** The header a log entry carries its trace context in. */
export const TRACEPARENT = 'traceparent';

const tracer = () => trace.getTracer('chat');

/** The active span's `traceparent`, to carry across a process boundary. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[TRACEPARENT];
}

function contextOf(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent }) : ROOT_CONTEXT;
}

/** Runs `work` in a span of its own (a child of the active one); without tracing, just runs it. */
export async function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!state.on) return work();
  return tracer().startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span in the trace a `traceparent` names (a message's, read from the log or a delivery). */
export function startSpanIn(traceparent: string, name: string, attributes: Record<string, string | number> = {}, startTime?: number): Span {
  return tracer().startSpan(name, { attributes, ...(startTime !== undefined && { startTime }) }, contextOf(traceparent));
}
