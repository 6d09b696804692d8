export type { Attributes, Context, Span } from '@opentelemetry/api';
export { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
export { type ExportReporter, ReportingExporter } from './reporting-exporter';
export { type StartTracingOptions, startProcessTracing, startTracing, type Tracing } from './start-tracing';
export {
  activeIds,
  carrierOf,
  contextOf,
  endSpan,
  newRunTrace,
  type RunSpanEnd,
  type RunTrace,
  recordRunSpan,
  runContext,
  TRACER_NAME,
  type TraceCarrier,
  traceIdOf,
  tracer,
  type WithSpanOptions,
  withSpan,
} from './trace-context';
export { SAMPLERS, type SamplerName, type TracingSettings } from './tracing-settings';
export { tracingOn } from './tracing-state';
