import type { Logger } from '@orch/logger';
import type { RequestHandler } from 'express';
import type { ApiMetrics } from '../metrics';

/**
 * Logs one line per request (method, route pattern, status, ms) and feeds the duration histogram. The route is the
 * pattern the app stored in `res.locals.route`, never the raw path, so ids do not explode label cardinality.
 * Requests the app marked `res.locals.quiet` (the scripts, styles and polling calls of Bull Board, Swagger UI and
 * the web view: a Bull Board page view alone made 16 to 22 of them) are logged at debug when they succeed; the
 * page itself stays at info, with its path.
 */
export function requestLog(logger: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      const status = res.statusCode;
      metrics.observeRequest(req.method, route, status, seconds);
      const level = status >= 500 ? 'error' : res.locals.quiet === true && status < 400 ? 'debug' : 'info';
      logger.log(level, 'request', {
        method: req.method,
        route,
        path: route === 'unmatched' || res.locals.page === true ? req.originalUrl.split('?')[0] : undefined,
        status,
        ms: Math.round(seconds * 100_000) / 100,
        request_id: res.locals.requestId as string | undefined,
        ...(res.locals.logFields as Record<string, unknown> | undefined),
      });
    });
    next();
  };
}
