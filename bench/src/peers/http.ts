import { Agent, request } from 'node:http';
import { type JsonResponse, readJsonResponse } from '../http-client';

export type { JsonResponse };

/**
 * One client's HTTP connection: keep-alive, one socket, as a caller that submits one run after another holds. Every
 * system is called through this same client, so the client's own cost is the same for all three.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly baseUrl: string) {}

  post(path: string, body: unknown): Promise<JsonResponse> {
    return this.send('POST', path, body);
  }

  get(path: string): Promise<JsonResponse> {
    return this.send('GET', path);
  }

  private send(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.baseUrl), { method, agent: this.agent, headers }, (res) =>
        readJsonResponse(res).then(resolve, reject),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Reads a Server-Sent Events stream until `stop(event)` says so, then drops the connection's interest in the rest.
   * Resolves with the event that stopped it.
   */
  events(path: string, stop: (event: SseEvent) => boolean): Promise<SseEvent> {
    return new Promise((resolve, reject) => {
      const parser = new SseParser();
      let settled = false;
      const req = request(
        new URL(path, this.baseUrl),
        { method: 'GET', agent: this.agent, headers: { accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`GET ${path}: ${res.statusCode}`));
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            if (settled) return;
            for (const event of parser.push(text)) {
              if (stop(event)) {
                settled = true;
                resolve(event);
                return;
              }
            }
          });
          res.on('end', () => {
            if (!settled) reject(new Error(`GET ${path}: the stream ended before its final event`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Incremental text/event-stream parser: feed it chunks, get whole events back (comments and `retry:` skipped). */
export class SseParser {
  private buffer = '';

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return out;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') {
          event.data = hasData ? `${event.data}\n${value}` : value;
          hasData = true;
        }
      }
      if (hasData) out.push(event);
    }
  }
}
