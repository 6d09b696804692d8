import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Test helper: a local OpenAI-compatible endpoint (`POST /v1/chat/completions`) scripted per request. */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are inspected freely in assertions
  body: any;
  /** Date.now() when the request arrived. */
  at: number;
  /** Resolves when the connection that carried the request is closed. */
  socketClosed: Promise<void>;
}

export type ScriptedReply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; text: string }
  | 'hang';

/** `n` counts requests from 0. */
export type Responder = (request: RecordedRequest, n: number) => ScriptedReply;

export interface ModelServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Resolves with request number `n` (from 0) once it has arrived. */
  request(n: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export async function startModelServer(respond: Responder): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  const waiters = new Map<number, (r: RecordedRequest) => void>();
  const sockets = new Set<Socket>();
  const closedBy = new WeakMap<Socket, Promise<void>>();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
        at: Date.now(),
        socketClosed: closedBy.get(req.socket) ?? Promise.resolve(),
      };
      const n = requests.length;
      requests.push(recorded);
      waiters.get(n)?.(recorded);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const reply = respond(recorded, n);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      const body = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
      const type = 'json' in reply ? 'application/json' : 'text/plain';
      res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers }).end(body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    closedBy.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    request(n) {
      const arrived = requests[n];
      if (arrived) return Promise.resolve(arrived);
      return new Promise((resolve) => waiters.set(n, resolve));
    },
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** A chat completion in the OpenAI response shape. */
export function completion(
  content: string | null,
  usage = { prompt_tokens: 100, completion_tokens: 50 },
  model = 'test-model',
): unknown {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** Rejects naming what was awaited once `ms` pass; for awaiting events, never as a sleep. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
