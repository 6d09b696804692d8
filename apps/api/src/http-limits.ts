import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '@orch/config';
import type { Logger } from '@orch/logger';
import type { Express } from 'express';

/**
 * The API's HTTP server, with the request timeouts of the config: without them Node waits 60 s for headers and
 * 300 s for a body, so a client whose `Content-Length` promises more than it sends holds a connection for minutes.
 * Requests Node refuses before Express sees them (a timeout, malformed or oversized headers) get the API's JSON
 * error body instead of Node's bare status line.
 */
export function createHttpServer(app: Express, server: Readonly<Config['server']>, logger: Logger): Server {
  const http = createServer(
    {
      headersTimeout: server.headersTimeoutMs,
      requestTimeout: server.requestTimeoutMs,
      // How often Node looks for timed-out requests (30 s by default, which would add up to 30 s to each timeout).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(server.headersTimeoutMs / 4))),
    },
    app,
  );
  const responses = new WeakMap<Duplex, ServerResponse>();
  http.on('request', (req, res: ServerResponse) => responses.set(req.socket, res));
  http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing to answer on a connection that is gone, or whose response already started (on a keep-alive
    // connection the last response is done: the request that timed out has none yet).
    const current = responses.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || (current?.headersSent && !current.writableEnded)) {
      socket.destroy();
      return;
    }
    const { status, code, message } = describe(error, server);
    logger.debug('request refused by the HTTP parser', { status, error: error.code ?? error.message });
    const body = JSON.stringify({ error: { code, message, details: [] } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `x-request-id: ${randomUUID()}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });
  return http;
}

function describe(
  error: NodeJS.ErrnoException,
  server: Readonly<Config['server']>,
): { status: number; code: string; message: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'REQUEST_TIMEOUT',
        message:
          `the request did not arrive in time: headers are allowed ${server.headersTimeoutMs} ms ` +
          `(ORCHESTRATOR_HEADERS_TIMEOUT) and the whole request ${server.requestTimeoutMs} ms ` +
          '(ORCHESTRATOR_REQUEST_TIMEOUT); check that Content-Length matches the body sent',
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'BAD_REQUEST', message: 'the request headers are too large (16 KB at most)' };
    default:
      return {
        status: 400,
        code: 'BAD_REQUEST',
        message: `malformed HTTP request (${error.code ?? 'parse error'}): ${error.message}`,
      };
  }
}
