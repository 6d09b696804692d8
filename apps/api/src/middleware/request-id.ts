import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** The header a caller (or a proxy in front) may send, and that every answer carries. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller's id may look like: anything else (too long, spaces, control characters) is replaced, not logged. */
const ACCEPTED = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** The caller's request id when it is a plain token, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTED.test(value) ? value : randomUUID();
}

/**
 * Gives every request an id (`X-Request-Id` as sent, or a new one), returned in the same header, written on the
 * request's log line, and stored with a run it creates, so a worker's task log lines carry it too.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
