import { context, contextOf, endSpan, SpanKind, trace, tracer, tracingOn } from '@orch/tracing';
import type { ServiceRequest } from './envelope';

/**
 * Runs a service's handling of one request inside a span that is the child of the calling task attempt's (from the
 * envelope's traceparent), so log lines and nested calls carry the run's trace. `fail` marks the span as an error.
 * Tracing off: just `work`.
 */
export async function inServiceSpan<T>(
  service: string,
  request: ServiceRequest,
  work: (fail: (message: string) => void) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work(() => undefined);
  const parent = contextOf(request);
  const span = tracer().startSpan(
    `${service} ${request.operation}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'rpc.system': 'orchestrator-bus',
        'rpc.service': service,
        'rpc.method': request.operation,
        'orch.execution_id': request.execution_id,
        'orch.task_id': request.task_id,
        'orch.attempt': request.attempt,
        'orch.request_id': request.request_id,
      },
    },
    parent,
  );
  let error: string | undefined;
  try {
    return await context.with(trace.setSpan(parent, span), () =>
      work((message) => {
        error = message;
      }),
    );
  } catch (thrown) {
    error = String(thrown);
    throw thrown;
  } finally {
    endSpan(span, error);
  }
}
