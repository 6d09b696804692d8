import { OrchestratorError } from '@orch/errors';
import cors from 'cors';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { ApiDeps } from './api-deps';
import { BOARD_PATH, createBoard } from './board';
import { createDocsRouter, DOCS_PATH } from './docs-page';
import type { SseSink } from './event-streams';
import type { HandlerDeps, HandlerResult } from './handlers/handler';
import { verifyJsonDepth } from './json-depth';
import { authenticate, callerOf, missingScope, requireScope } from './middleware/auth';
import { errorHandler, MethodNotAllowedError } from './middleware/error-handler';
import { REQUEST_ID_HEADER, requestId } from './middleware/request-id';
import { requestLog } from './middleware/request-log';
import { requestSpan } from './middleware/request-span';
import { buildOpenApi } from './openapi';
import { openapiExamples } from './openapi-examples';
import { pathPattern, ROUTES, type RouteSpec } from './routes';
import { serveTaskLogs } from './task-log-route';
import { createUiRouter, UI_PATH } from './ui/ui-router';

export interface AppOptions {
  /** True once shutdown began: responses then ask clients to close their keep-alive connections. */
  closing?: () => boolean;
}

/** Paths that never need an API key (load balancer and orchestrator probes): the routes whose scope is `none`. */
const OPEN_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.scope === 'none').map((r) => r.path));

/**
 * The Express app: security middleware, the route table, Swagger UI, Bull Board, and the one error handler. Express
 * is only an adapter here; handlers take `(input, deps)` and return `{status, body}`.
 */
export function createApp(deps: ApiDeps, options: AppOptions = {}): Express {
  const { config, logger, metrics } = deps;
  const openapi = buildOpenApi(ROUTES, deps.version, openapiExamples(deps.catalog));
  const handlerDeps: HandlerDeps = { ...deps, openapi };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((_req, res, next) => {
    // Decided when the headers go out, not when the request came in: a request that arrived just before shutdown
    // must still tell its client to drop the keep-alive connection, or draining waits for the keep-alive timeout.
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: unknown[]) {
      if (options.closing?.() && !this.headersSent) this.setHeader('connection', 'close');
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    } as typeof res.writeHead;
    next();
  });
  app.use(requestId());
  app.use(requestLog(logger, metrics));
  app.use(requestSpan());
  app.use(securityHeaders());
  const origins = config.server.corsOrigins;
  app.use(
    cors({
      origin: origins.includes('*') ? '*' : origins.length > 0 ? [...origins] : false,
      allowedHeaders: [
        'authorization',
        'content-type',
        'last-event-id',
        REQUEST_ID_HEADER,
        'traceparent',
        'tracestate',
      ],
      exposedHeaders: ['location', REQUEST_ID_HEADER],
      maxAge: 600,
    }),
  );
  // The web view's files hold no data and browsers cannot send a key with a page load; its data calls carry the key.
  const keys = config.server.apiKeys;
  const readers = [authenticate(keys, new Set()), requireScope('read')];
  app.use(
    UI_PATH,
    labelled(UI_PATH, (path) => path.startsWith('/assets/') || path.startsWith('/api/')),
    createUiRouter({ engine: deps.engine, guard: readers, traceUrlTemplate: config.traceUrlTemplate }),
  );
  app.use(authenticate(keys, OPEN_PATHS));
  // Only routes that take a body read one (after the scope check): a body sent elsewhere is ignored, not inflated.
  const parseJson = express.json({
    limit: config.server.bodyLimit,
    verify: verifyJsonDepth(config.server.jsonMaxDepth),
  });

  for (const route of ROUTES) {
    const body = route.body ? [parseJson, requireJsonBody(route)] : [];
    app[route.method](route.path, requireScope(route.scope), ...body, adapt(route, handlerDeps));
  }
  app.use(
    DOCS_PATH,
    labelled(DOCS_PATH, (path) => path !== '/'),
    requireScope('read'),
    createDocsRouter(openapi),
  );
  app.use(
    BOARD_PATH,
    labelled(BOARD_PATH, (path) => path.startsWith('/static/') || path.startsWith('/api/')),
    requireScope('read'),
    createBoard(deps.engine, deps.logger),
  );

  const patterns = ROUTES.map((r) => ({ pattern: pathPattern(r.path), method: r.method.toUpperCase() }));
  app.use((req, _res, next) => {
    const allowed = patterns.filter((p) => p.pattern.test(req.path)).map((p) => p.method);
    if (allowed.length === 0) return next(new OrchestratorError('NOT_FOUND', `no route ${req.method} ${req.path}`));
    if (allowed.includes('GET')) allowed.push('HEAD');
    next(new MethodNotAllowedError(req.method, req.path, allowed));
  });
  app.use(errorHandler(logger));
  return app;
}

/** JSON routes get a CSP that allows nothing; the two HTML pages get helmet's defaults, minus the https upgrade. */
function securityHeaders(): RequestHandler {
  const api = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  // The service usually runs on plain HTTP behind a proxy: upgrading asset requests would break the pages.
  const pages = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  return (req, res, next) => {
    const page = req.path.startsWith(DOCS_PATH) || req.path.startsWith(BOARD_PATH) || req.path.startsWith(UI_PATH);
    (page ? pages : api)(req, res, next);
  };
}

/**
 * Labels requests under a mounted page (Bull Board, Swagger UI, the web view) with its route for the metrics and
 * the log. `quiet` picks the ones that are not the page itself (assets, polling): the log keeps those at debug.
 */
function labelled(route: string, quiet: (path: string) => boolean): RequestHandler {
  return (req, res, next) => {
    res.locals.route = route;
    if (quiet(req.path)) res.locals.quiet = true;
    else res.locals.page = true;
    next();
  };
}

/**
 * After the JSON parser: 415 for a body it did not read (another Content-Type), 400 for a required body left out.
 * A form-encoded approval (curl's default) would otherwise pass as an approval without its payload.
 */
function requireJsonBody(route: RouteSpec): RequestHandler {
  return (req, _res, next) => {
    if (req.body !== undefined) return next();
    const length = req.headers['content-length'];
    const sent = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (sent) {
      const type = req.headers['content-type'] ?? 'none';
      return next(
        new OrchestratorError(
          'UNSUPPORTED_MEDIA_TYPE',
          `request body must be JSON sent as Content-Type: application/json; got Content-Type ${type}`,
          { details: [{ pointer: '', message: 'is not sent as application/json' }] },
        ),
      );
    }
    if (route.bodyOptional) return next();
    next(
      new OrchestratorError(
        'BAD_REQUEST',
        'request body must be a JSON object sent as Content-Type: application/json',
        {
          details: [{ pointer: '', message: 'is missing' }],
        },
      ),
    );
  };
}

function adapt(route: RouteSpec, deps: HandlerDeps): RequestHandler {
  return async (req, res) => {
    res.locals.route = route.path;
    if (req.params.id && route.tag === 'workflows') res.locals.logFields = { execution_id: req.params.id };
    if (route.handler === 'events') return streamEvents(req, res, deps);
    if (route.handler === 'logs') return serveTaskLogs(req, res, deps, responseSink);
    const caller = callerOf(res);
    for (const [field, scope] of Object.entries(route.bodyScopes ?? {})) {
      const problem =
        (req.body as Record<string, unknown> | undefined)?.[field] === undefined
          ? undefined
          : missingScope(caller, scope, `\`${field}\``);
      if (problem) throw new OrchestratorError('FORBIDDEN', problem);
    }
    const left = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) left.abort();
    });
    const result = await route.handler(
      {
        params: req.params as Record<string, string>,
        query: req.query,
        body: req.body,
        headers: req.headers,
        requestId: res.locals.requestId as string,
        signal: left.signal,
        caller,
      },
      deps,
    );
    send(res, result);
  };
}

function send(res: Response, result: HandlerResult): void {
  res.status(result.status);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  if (typeof result.body === 'string') res.send(result.body);
  else if (result.body === undefined) res.end();
  else res.json(result.body);
}

async function streamEvents(req: Request, res: Response, deps: HandlerDeps): Promise<void> {
  const header = req.headers['last-event-id'];
  const plan = await deps.streams.plan(req.params.id as string, Array.isArray(header) ? header[0] : header);
  if (plan.finished) {
    res.status(204).end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no', // nginx would otherwise buffer the stream
  });
  res.flushHeaders();
  await deps.streams.pipe(plan, responseSink(res));
}

function responseSink(res: Response): SseSink {
  return {
    write: (chunk) => res.write(chunk),
    drained: () =>
      new Promise<void>((resolve) => {
        // Each wait removes both listeners: a long replay waits for many drains, and left-over 'close'
        // listeners piled up on the response (Node's MaxListenersExceededWarning).
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      }),
    end: () => {
      if (!res.writableEnded) res.end();
    },
    onClose: (listener) => {
      res.on('close', listener);
    },
  };
}
