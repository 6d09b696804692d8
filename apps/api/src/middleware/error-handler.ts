import { OrchestratorError, toOrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import type { ErrorRequestHandler, Response } from 'express';

/** A known path asked for with a method it does not have; the handler sets `Allow`. */
export class MethodNotAllowedError extends OrchestratorError {
  constructor(
    method: string,
    path: string,
    readonly allowed: string[],
  ) {
    super('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allowed.join(', ')}`);
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  /** http-errors' flag: the message is meant for the client. */
  expose?: boolean;
  /** zlib's, when a compressed body does not inflate. */
  errno?: number;
  code?: string;
  maxDepth?: number;
  message: string;
}

/** What of the request an error message may quote. */
export interface RequestContext {
  headers: Record<string, string | string[] | undefined>;
}

const REDIS_DOWN = [
  "Stream isn't writeable", // enableOfflineQueue: false while disconnected
  'Connection is closed',
  'Reached the max retries per request limit',
  'connect ECONNREFUSED',
];

/** What a client is told to wait while Redis is unreachable: about the reconnect backoff of our connections. */
export const REDIS_RETRY_AFTER_S = 5;

function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || REDIS_DOWN.some((text) => error.message.includes(text));
}

/** The one mapping from anything thrown to an OrchestratorError, whose code decides the HTTP status. */
export function toHttpError(error: unknown, req?: RequestContext): OrchestratorError {
  if (error instanceof OrchestratorError) return error;
  const parser = error as BodyParserError;
  switch (parser?.type) {
    case 'entity.too.deep':
      return new OrchestratorError(
        'BAD_REQUEST',
        `request body nests arrays and objects deeper than ${parser.maxDepth} levels (ORCHESTRATOR_JSON_MAX_DEPTH)`,
        { cause: error, details: [{ pointer: '', message: `nests deeper than ${parser.maxDepth} levels` }] },
      );
    case 'entity.parse.failed':
      return new OrchestratorError('BAD_REQUEST', `request body is not valid JSON: ${parser.message}`, {
        cause: error,
        details: [{ pointer: '', message: 'is not valid JSON' }],
      });
    case 'entity.too.large':
      return new OrchestratorError(
        'PAYLOAD_TOO_LARGE',
        `request body is larger than the limit of ${parser.limit} bytes (ORCHESTRATOR_BODY_LIMIT)`,
        { cause: error },
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new OrchestratorError('UNSUPPORTED_MEDIA_TYPE', parser.message, { cause: error });
    case 'request.aborted':
    case 'request.size.invalid':
      return new OrchestratorError('BAD_REQUEST', parser.message, { cause: error });
  }
  if (error instanceof URIError) {
    // The router decodes path parameters: a percent-escape that is not UTF-8 (a lone surrogate, a cut sequence).
    return new OrchestratorError('BAD_REQUEST', `${error.message}: percent-escapes in the path must encode UTF-8`, {
      cause: error,
    });
  }
  if (parser?.status === 400 && typeof parser.errno === 'number' && typeof parser.code === 'string') {
    // zlib's own words ("incorrect header check") say little to a client; its code is kept for the log.
    const encoding = req?.headers['content-encoding'] ?? 'compressed';
    const cut = parser.code === 'Z_BUF_ERROR';
    return new OrchestratorError(
      'BAD_REQUEST',
      `request body does not decompress as Content-Encoding ${encoding} (${parser.code}): ` +
        (cut ? 'it ends before the compressed data does' : 'it is not data compressed that way') +
        '; send it compressed as the header says, or without Content-Encoding',
      { cause: error },
    );
  }
  if (parser?.expose === true && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
    // Any other client error from the body parser (http-errors marks those meant for the client).
    return new OrchestratorError(parser.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', parser.message, {
      cause: error,
    });
  }
  if (isRedisUnavailable(error)) {
    return new OrchestratorError('SERVICE_UNAVAILABLE', 'Redis is unavailable; try again shortly', {
      cause: error,
      retryAfterS: REDIS_RETRY_AFTER_S,
    });
  }
  return toOrchestratorError(error);
}

export function sendError(res: Response, error: OrchestratorError): void {
  if (error instanceof MethodNotAllowedError) res.setHeader('allow', error.allowed.join(', '));
  if (error.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer realm="orchestrator"');
  if (error.retryAfterS !== undefined) res.setHeader('retry-after', String(error.retryAfterS));
  // Internal messages can carry hostnames, keys or stack details: the log has them, the client gets a pointer to it.
  const body =
    error.status >= 500 && error.code === 'INTERNAL'
      ? { code: error.code, message: 'internal error; see the server log', details: [] }
      : error.toJSON();
  res.status(error.status).json({ error: body });
}

/** Express's error middleware: every 4xx/5xx body is `{error: {code, message, details}}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (thrown, req, res, _next) => {
    const error = toHttpError(thrown, req);
    if (error.status >= 500) {
      logger.error('request failed', {
        method: req.method,
        path: req.path,
        code: error.code,
        error: error.message,
        cause: error.cause instanceof Error ? error.cause.stack : undefined,
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendError(res, error);
  };
}
