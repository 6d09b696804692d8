import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@orch/config';
import { type Harness, startHarness } from '@orch/engine/testing';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { ApiService } from './api-service';

export const ROOT = join(__dirname, '../../..');

/** Parsed JSON of responses and bus messages: tests assert it with toEqual, so a static type adds nothing. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;

/** One API instance on the harness's Redis, with its log lines kept for assertions. */
export interface TestApi {
  service: ApiService;
  url: string;
  logs: Record<string, unknown>[];
  /** Emits `line` for every log line written. */
  lines: EventEmitter;
  /** The first log line (already written or still to come) that matches. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    ms?: number,
  ): Promise<Record<string, unknown>>;
  /** fetch + JSON: status, headers and the parsed body (text when it is not JSON). */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
}

/**
 * Resolves once the APIs together have logged `count` lines that match (already written or still to come), with
 * those lines; for waiting until every replica has handled a bus message.
 */
export function waitForLogs(
  apis: TestApi[],
  match: (line: Record<string, unknown>) => boolean,
  count: number,
  what: string,
  ms = 10_000,
): Promise<Record<string, unknown>[]> {
  const matching = () => apis.flatMap((api) => api.logs.filter(match));
  let check: (() => void) | undefined;
  const done = new Promise<Record<string, unknown>[]>((resolve) => {
    check = () => {
      const lines = matching();
      if (lines.length >= count) resolve(lines);
    };
    for (const api of apis) api.lines.on('line', check);
    check();
  });
  return withDeadline(done, ms, `${count} log lines: ${what}`).finally(() => {
    for (const api of apis) api.lines.off('line', check as never);
  });
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is, without JSON encoding. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

/** Test-only environment: the harness's Redis and key prefix, a free port, the repository's templates. */
export function testEnv(harness: Harness, env: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_HOST: harness.server.host,
    REDIS_PORT: String(harness.server.port),
    QUEUE_PREFIX: 'test',
    ORCHESTRATOR_HOST: '127.0.0.1',
    ORCHESTRATOR_PORT: '0',
    ORCHESTRATOR_TEMPLATES: join(ROOT, 'templates'),
    EXECUTION_TTL: '10m',
    LOG_LEVEL: 'debug',
    SERVICE_SECRET: TEST_SERVICE_SECRET,
    ...env,
  };
}

/** Signs service messages in tests; config requires one whenever API keys are set. */
export const TEST_SERVICE_SECRET = 'test-service-secret-0123456789abcdef';

export function startApi(
  harness: Harness,
  env: Record<string, string> = {},
  options: { heartbeatMs?: number; drainTimeoutMs?: number } = {},
): Promise<TestApi> {
  return startApiWith(testEnv(harness, env), options);
}

/** An API on a complete environment of the test's making (a cluster's, say). */
export async function startApiWith(
  env: Record<string, string>,
  options: { heartbeatMs?: number; drainTimeoutMs?: number } = {},
): Promise<TestApi> {
  const logs: Record<string, unknown>[] = [];
  const written = new EventEmitter();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logs.push(parsed);
        written.emit('line', parsed);
      }
      done();
    },
  });
  const config = loadConfig(env);
  const logger = createLogger({ level: 'debug', stream, defaults: { service: 'api-test' } });
  const service = await ApiService.start({ config, logger, ...options });
  const url = service.url;
  return {
    service,
    url,
    logs,
    lines: written,
    waitForLog(match, what, ms = 10_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      let listener: ((line: Record<string, unknown>) => void) | undefined;
      const found = new Promise<Record<string, unknown>>((resolve) => {
        listener = (line) => {
          if (match(line)) resolve(line);
        };
        written.on('line', listener);
      });
      return withDeadline(found, ms, what).finally(() => written.off('line', listener as never));
    },
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      let body: string | undefined = callOptions.raw;
      if (callOptions.body !== undefined) {
        body = JSON.stringify(callOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
}

/** A Redis subscriber that records every message on `channel`, and waits for the ones a test expects. */
export class ChannelRecorder {
  readonly messages: Json[] = [];
  private readonly waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];

  private constructor(readonly client: Redis) {}

  static async start(harness: Harness, channel: string): Promise<ChannelRecorder> {
    const client = createRedisConnection({ host: harness.server.host, port: harness.server.port }, 'worker');
    const recorder = new ChannelRecorder(client);
    client.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      const parsed = JSON.parse(message);
      recorder.messages.push(parsed);
      for (const waiter of [...recorder.waiters]) {
        if (waiter.match(parsed)) {
          recorder.waiters.splice(recorder.waiters.indexOf(waiter), 1);
          waiter.resolve(parsed);
        }
      }
    });
    await client.subscribe(channel);
    return recorder;
  }

  /** The first message (already received or still to come) that matches. */
  waitFor(match: (m: Json) => boolean, what: string, ms = 10_000): Promise<Json> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return withDeadline(new Promise((resolve) => this.waiters.push({ match, resolve })), ms, what);
  }

  async stop(): Promise<void> {
    await this.client.quit();
  }
}

export interface SseEvent {
  id?: string;
  event?: string;
  data?: Json;
}

/** Reads a whole Server-Sent Events response (until the server ends it) and parses its events and comments. */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
  ms = 20_000,
): Promise<{ status: number; events: SseEvent[]; comments: string[]; retry?: number; contentType: string | null }> {
  const response = await withDeadline(fetch(url, { headers }), ms, `SSE response from ${url}`);
  const text = await withDeadline(response.text(), ms, `the end of the SSE stream ${url}`);
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  for (const block of text.split('\n\n').filter(Boolean)) {
    const event: SseEvent = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) event.id = line.slice(4);
      else if (line.startsWith('event: ')) event.event = line.slice(7);
      else if (line.startsWith('data: ')) event.data = JSON.parse(line.slice(6));
      else if (line.startsWith('retry: ')) retry = Number(line.slice(7));
    }
    if (event.id || event.event) events.push(event);
  }
  return { status: response.status, events, comments, retry, contentType: response.headers.get('content-type') };
}

export { byId, probe, wf } from '@orch/engine/testing';
export { type Harness, startHarness };
