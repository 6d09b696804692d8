import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError } from './api-client';
import { followSse, type SseMessage, SseParser } from './sse-reader';

describe('SseParser', () => {
  it('parses events split anywhere, with CRLF, comments, multi-line data and retry advice', () => {
    const parser = new SseParser();
    const text =
      'retry: 250\r\n\r\n: heartbeat\r\nid: 1-0\r\nevent: a\r\ndata: {"x":\r\ndata: 1}\r\n\r\nid: 2-0\ndata:plain\n\n';
    const messages: SseMessage[] = [];
    for (const ch of text) messages.push(...parser.push(ch));
    expect(messages).toEqual([
      { id: '1-0', event: 'a', data: '{"x":\n1}' },
      { id: '2-0', event: 'message', data: 'plain' },
    ]);
    expect(parser.retryMs).toBe(250);
    expect(parser.lastEventId).toBe('2-0');
  });

  it('dispatches nothing for a block without data', () => {
    const parser = new SseParser();
    expect(parser.push('event: x\n\nid: 5-0\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('5-0');
  });
});

/** A scripted SSE endpoint: `answer(n, req, res)` handles connection number n (from 0). */
async function sseServer(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    answer(seen.length - 1, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    client: new ApiClient(url, 'k'),
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const final = (m: SseMessage) => m.event === 'end';

async function collect(stream: AsyncGenerator<SseMessage>): Promise<SseMessage[]> {
  const all: SseMessage[] = [];
  for await (const m of stream) all.push(m);
  return all;
}

describe('followSse', () => {
  it('reconnects after a dropped connection with Last-Event-ID and the Bearer key, and ends after the final event', async () => {
    const server = await sseServer((n, _req, res) => {
      sse(res);
      if (n === 0) {
        res.write('retry: 10\n\nid: 1-0\nevent: step\ndata: one\n\nid: 2-0\nevent: step\ndata: two\n\n');
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end('id: 3-0\nevent: end\ndata: three\n\n');
    });
    const reconnects: number[] = [];
    const messages = await collect(
      followSse({ client: server.client, path: '/events', isFinal: final, onReconnect: (n) => reconnects.push(n) }),
    );
    await server.close();
    expect(messages.map((m) => m.data)).toEqual(['one', 'two', 'three']);
    expect(reconnects).toEqual([1]);
    expect(server.seen.map((r) => r.headers['last-event-id'])).toEqual([undefined, '2-0']);
    expect(server.seen.map((r) => r.headers.authorization)).toEqual(['Bearer k', 'Bearer k']);
    expect(server.seen[0]?.headers.accept).toBe('text/event-stream');
  });

  it('retries a 503, stops quietly on 204, and throws a 4xx at once', async () => {
    const server = await sseServer((n, _req, res) => {
      if (n === 0)
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":{"code":"SERVICE_UNAVAILABLE","message":"closing","details":[]}}');
      else res.writeHead(204).end();
    });
    const messages = await collect(followSse({ client: server.client, path: '/e', retryMs: 5, lastEventId: '9-0' }));
    expect(messages).toEqual([]);
    expect(server.seen.map((r) => r.headers['last-event-id'])).toEqual(['9-0', '9-0']);
    await server.close();

    const missing = await sseServer((_n, _req, res) => {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"code":"NOT_FOUND","message":"gone","details":[]}}');
    });
    const error = await collect(followSse({ client: missing.client, path: '/e' })).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).describe()).toEqual(['NOT_FOUND: gone']);
    expect(missing.seen).toHaveLength(1);
    await missing.close();
  });

  it('gives up after maxRetries reconnects that bring nothing new', async () => {
    const server = await sseServer((_n, _req, res) => {
      sse(res);
      res.end();
    });
    const error = await collect(followSse({ client: server.client, path: '/e', retryMs: 1, maxRetries: 2 })).catch(
      (e) => e,
    );
    expect((error as ApiError).code).toBe('STREAM_LOST');
    expect(server.seen).toHaveLength(3);
    await server.close();
  });

  it('with idleMs, returns once the stream goes quiet; an abort ends it too', async () => {
    const server = await sseServer((_n, _req, res) => {
      sse(res);
      res.write('id: 1-0\ndata: past\n\n');
    });
    const quiet = await collect(followSse({ client: server.client, path: '/e', idleMs: 100 }));
    expect(quiet.map((m) => m.data)).toEqual(['past']);
    const controller = new AbortController();
    const stream = followSse({ client: server.client, path: '/e', signal: controller.signal });
    const first = await stream.next();
    expect(first.value?.data).toBe('past');
    controller.abort();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await server.close();
  });
});
