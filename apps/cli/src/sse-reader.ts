import { type ApiClient, ApiError, parseJson, toApiError } from './api-client';

/** One dispatched Server-Sent Event. */
export interface SseMessage {
  id: string;
  event: string;
  data: string;
}

/**
 * An incremental parser for the `text/event-stream` format: feed it decoded text as it arrives and it returns the
 * events completed so far. It keeps the last event id and the server's `retry` advice, as EventSource does.
 */
export class SseParser {
  lastEventId = '';
  retryMs: number | undefined;
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private sawField = false;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk to decide.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment: heartbeats
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.sawField = true;
        break;
      case 'event':
        this.event = value;
        this.sawField = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        this.sawField = true;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const had = this.sawField && this.data.length > 0;
    const message = { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') };
    this.data = [];
    this.event = '';
    this.sawField = false;
    return had ? message : undefined;
  }
}

export interface FollowOptions {
  client: ApiClient;
  path: string;
  /** Resume after this event id (sent as Last-Event-ID). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** True for the event after which the stream is done (the server then closes it too). */
  isFinal?: (message: SseMessage) => boolean;
  /** Delay before reconnecting when the server gave no `retry` advice; the server's advice wins. */
  retryMs?: number;
  /** Caps the server's advice, so tests need not wait 3 s. */
  maxRetryMs?: number;
  /** Reconnects in a row that bring no new event before giving up. */
  maxRetries?: number;
  /** Stop once the stream has been silent this long: for reading what is there without following. */
  idleMs?: number;
  /** Told before each reconnect. */
  onReconnect?: (attempt: number, reason: string) => void;
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>> | 'idle';

/**
 * Follows an SSE endpoint with fetch (so it can send the Authorization header, which EventSource cannot), yielding
 * every event once, in order. A dropped connection or a 5xx is retried after the server's `retry` delay with
 * Last-Event-ID, so the server resends only what was missed; a 204 means nothing more will come. Ends after the
 * final event, on `idleMs` of silence, or when `signal` aborts; a 4xx answer throws at once as an ApiError.
 */
export async function* followSse(options: FollowOptions): AsyncGenerator<SseMessage> {
  const { client, path } = options;
  const parser = new SseParser();
  parser.lastEventId = options.lastEventId ?? '';
  const maxRetries = options.maxRetries ?? 5;
  let failures = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    let reason = 'the stream ended before the run did';
    try {
      const headers = client.headers({ accept: 'text/event-stream' });
      if (parser.lastEventId) headers['last-event-id'] = parser.lastEventId;
      const response = await client.fetch(path, { headers, signal: controller.signal });
      if (response.status === 204) return;
      if (response.status >= 400) {
        const error = await errorOf(response);
        if (response.status < 500) throw error;
        reason = `${error.code}: ${error.message}`;
      } else if (response.body) {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const chunk = await readWithin(reader, options.idleMs);
          if (chunk === 'idle') {
            await reader.cancel().catch(() => undefined);
            return;
          }
          if (chunk.done) break;
          for (const message of parser.push(decoder.decode(chunk.value, { stream: true }))) {
            failures = 0;
            yield message;
            if (options.isFinal?.(message)) return;
          }
        }
      }
    } catch (error) {
      if (options.signal?.aborted || (error instanceof ApiError && error.status > 0 && error.status < 500)) {
        if (options.signal?.aborted) return;
        throw error;
      }
      reason = error instanceof ApiError ? `${error.code}: ${error.message}` : (error as Error).message;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      controller.abort(); // ends the response body when the consumer stopped early
    }
    failures += 1;
    if (failures > maxRetries) {
      throw new ApiError(0, 'STREAM_LOST', `lost the event stream ${path} and could not resume it: ${reason}`);
    }
    options.onReconnect?.(failures, reason);
    const advice = parser.retryMs ?? options.retryMs ?? 3000;
    await sleep(Math.min(advice, options.maxRetryMs ?? advice), options.signal);
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  return toApiError(response.status, parseJson(text), text);
}

function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, idleMs?: number): Promise<ReadResult> {
  if (idleMs === undefined) return reader.read();
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<'idle'>((resolve) => {
    timer = setTimeout(() => resolve('idle'), idleMs);
  });
  return Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
