import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { chosenIds, tracingOn } from './tracing-state';

/** The instrumentation scope of every span this project makes. */
export const TRACER_NAME = 'orchestrator';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** A context as W3C trace-context fields: what rides in job data, service envelopes and HTTP headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The active (or given) context as a carrier; undefined when tracing is off or there is no span. */
export function carrierOf(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!tracingOn()) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? carrier : undefined;
}

/** The context a carrier names (its span as a remote parent), on top of `base`. Malformed fields are ignored. */
export function contextOf(carrier: TraceCarrier | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!carrier?.traceparent || !tracingOn()) return base;
  return propagation.extract(base, carrier);
}

/** The trace and span ids of the active span, for log lines; undefined without a valid span. */
export function activeIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpanContext(context.active());
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
}

/**
 * A run's span, decided when the run is submitted and recorded when it ends: `traceparent` is the run span's own
 * (the parent of its tasks' spans), `parent` the span id of the submit (HTTP request, bus message, schedule firing
 * or parent task) when there was one.
 */
export interface RunTrace {
  traceparent: string;
  tracestate?: string;
  parent?: string;
}

/**
 * Allocates the span of a run about to be created, as a child of `parent`: the sampler decides now (through a span
 * started and never ended, so never exported), so every task of the run agrees with it.
 */
export function newRunTrace(parent: Context = context.active()): RunTrace | undefined {
  if (!tracingOn()) return undefined;
  const span = tracer().startSpan('workflow.run', { kind: SpanKind.INTERNAL }, parent);
  const carrier = carrierOf(trace.setSpan(parent, span));
  if (!carrier?.traceparent) return undefined;
  const parentSpan = trace.getSpanContext(parent);
  const run: RunTrace = { traceparent: carrier.traceparent };
  if (carrier.tracestate) run.tracestate = carrier.tracestate;
  if (parentSpan && trace.isSpanContextValid(parentSpan)) run.parent = parentSpan.spanId;
  return run;
}

/** The run span as a (remote) parent: where its tasks' spans hang. */
export function runContext(run: RunTrace | undefined): Context {
  return contextOf(run);
}

/** The trace id of a run's span (32 hex digits). */
export function traceIdOf(run: RunTrace): string {
  return run.traceparent.split('-')[1] ?? '';
}

export interface RunSpanEnd {
  name: string;
  startTime: number;
  attributes: Attributes;
  /** Set when the run did not complete: the span's status is ERROR with this message. */
  error?: string;
}

/** Records the run's span with the ids allocated at submit, from its start to now. No-op when tracing is off. */
export function recordRunSpan(run: RunTrace | undefined, end: RunSpanEnd): void {
  const ids = chosenIds();
  const own = run && spanContextOf(run);
  if (!ids || !own) return;
  const parent: Context = run.parent
    ? trace.setSpanContext(ROOT_CONTEXT, { ...own, spanId: run.parent, isRemote: true })
    : ROOT_CONTEXT;
  const span = ids.withIds(own.traceId, own.spanId, () =>
    tracer().startSpan(
      end.name,
      { kind: SpanKind.INTERNAL, startTime: end.startTime, attributes: end.attributes },
      parent,
    ),
  );
  endSpan(span, end.error);
}

/** Ends a span, ERROR with `error` when one is given. */
export function endSpan(span: Span, error?: string): void {
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}

function spanContextOf(run: RunTrace): SpanContext | undefined {
  const span = trace.getSpanContext(contextOf(run));
  return span && trace.isSpanContextValid(span) ? span : undefined;
}

export interface WithSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Defaults to the active context. */
  parent?: Context;
}

/**
 * Runs `work` inside a new span (ERROR when it throws) that is active meanwhile. Tracing off: just `work`, with
 * no span.
 */
export async function withSpan<T>(
  name: string,
  options: WithSpanOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
  );
  let error: string | undefined;
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (thrown) {
    error = thrown instanceof Error ? thrown.message : String(thrown);
    throw thrown;
  } finally {
    endSpan(span, error);
  }
}
