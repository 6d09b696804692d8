import { context, contextOf, endSpan, SpanKind, trace, tracer, tracingOn } from '@orch/tracing';
import type { RequestHandler } from 'express';

/** Probes and scrapes: a span every few seconds per replica would bury the requests worth tracing. */
const UNTRACED: ReadonlySet<string> = new Set(['/health', '/metrics']);

/**
 * A server span per request (tracing on only), active while the request is handled: a run submitted here is its
 * child. An incoming W3C `traceparent` (and `tracestate`) makes it part of the caller's trace.
 */
export function requestSpan(): RequestHandler {
  if (!tracingOn()) return (_req, _res, next) => next();
  return (req, res, next) => {
    if (UNTRACED.has(req.path)) return next();
    const parent = contextOf({
      traceparent: header(req.headers.traceparent),
      tracestate: header(req.headers.tracestate),
    });
    const span = tracer().startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
      parent,
    );
    res.on('close', () => {
      // The route pattern, never the raw path, names the span (ids in paths would make every name unique).
      const route = res.locals.route as string | undefined;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      const requestId = res.locals.requestId as string | undefined;
      if (requestId) span.setAttribute('orch.request_id', requestId);
      endSpan(span, res.statusCode >= 500 ? `HTTP ${res.statusCode}` : undefined);
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
