import { once } from 'node:events';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { ServiceCallError } from './service-call-error';
import { type ServiceHandler, ServiceResponder } from './service-responder';

const logger = createLogger({ level: 'error' });

function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'request',
    request_id: `r-${Math.random().toString(36).slice(2)}`,
    execution_id: 'e',
    task_id: 't',
    attempt: 1,
    idempotency_key: 'e:t',
    operation: 'run',
    parameters: {},
    reply_channel: 'test-replies',
    deadline: Date.now() + 10_000,
    ...overrides,
  };
}

describe('ServiceResponder', () => {
  let server: RedisServer;
  let publisher: Redis;
  let replies: Redis;
  let received: Record<string, unknown>[];
  let waiters: (() => void)[];

  beforeAll(async () => {
    server = await startRedisServer();
    const settings = { host: server.host, port: server.port };
    publisher = createRedisConnection(settings, 'worker');
    replies = createRedisConnection(settings, 'worker');
    replies.on('message', (_c: string, text: string) => {
      received.push(JSON.parse(text));
      for (const wake of waiters.splice(0)) wake();
    });
    await replies.subscribe('test-replies');
  });
  afterAll(async () => {
    publisher.disconnect();
    replies.disconnect();
    await server.stop();
  });
  beforeEach(() => {
    received = [];
    waiters = [];
  });

  async function reply(id: string): Promise<Record<string, unknown>> {
    const find = () => received.find((r) => r.request_id === id);
    while (!find()) await new Promise<void>((resolve) => waiters.push(resolve));
    return find() as Record<string, unknown>;
  }

  async function withResponder(
    handler: ServiceHandler,
    body: (responder: ServiceResponder) => Promise<void>,
    maxResponseBytes?: number,
  ) {
    const responder = new ServiceResponder({
      channel: 'test-requests',
      service: 'test-service',
      redis: { host: server.host, port: server.port },
      logger,
      handler,
      maxResponseBytes,
    });
    await responder.start();
    try {
      await body(responder);
    } finally {
      await responder.close();
    }
  }

  it('answers malformed requests when it can, survives garbage, and keeps serving', async () => {
    await withResponder(
      async () => 'fine',
      async (responder) => {
        const invalid = once(responder, 'invalid');
        await publisher.publish('test-requests', 'garbage{');
        expect((await withDeadline(invalid, 5000, 'the invalid event'))[0]).toMatch(/^not JSON/);
        await publisher.publish('test-requests', JSON.stringify(request({ request_id: 'bad', attempt: 'one' })));
        expect(await withDeadline(reply('bad'), 5000, 'the error reply')).toEqual({
          type: 'response',
          request_id: 'bad',
          status: 'error',
          error: { code: 'BAD_REQUEST', message: 'invalid request: /attempt must be integer', retryable: false },
        });
        const ok = request();
        await publisher.publish('test-requests', JSON.stringify(ok));
        expect(await withDeadline(reply(ok.request_id as string), 5000, 'the reply')).toMatchObject({
          status: 'ok',
          result: 'fine',
        });
      },
    );
  });

  it('turns handler failures into error responses with the right retryability', async () => {
    await withResponder(
      async (req) => {
        if (req.operation === 'permanent')
          throw new ServiceCallError('BAD_REQUEST', 'no such collection', { retryable: false });
        throw new Error('disk on fire');
      },
      async () => {
        const permanent = request({ operation: 'permanent' });
        const transient = request({ operation: 'transient' });
        await publisher.publish('test-requests', JSON.stringify(permanent));
        await publisher.publish('test-requests', JSON.stringify(transient));
        expect(await withDeadline(reply(permanent.request_id as string), 5000, 'reply')).toMatchObject({
          status: 'error',
          error: { code: 'BAD_REQUEST', message: 'no such collection', retryable: false },
        });
        expect(await withDeadline(reply(transient.request_id as string), 5000, 'reply')).toMatchObject({
          status: 'error',
          error: { code: 'INTERNAL', message: 'disk on fire', retryable: true },
        });
      },
    );
  });

  it('answers an oversized result with PAYLOAD_TOO_LARGE instead of publishing it', async () => {
    await withResponder(
      async () => ({ blob: 'x'.repeat(2048) }),
      async () => {
        const big = request();
        await publisher.publish('test-requests', JSON.stringify(big));
        const answer = await withDeadline(reply(big.request_id as string), 5000, 'reply');
        expect(answer).toMatchObject({ status: 'error', error: { code: 'PAYLOAD_TOO_LARGE', retryable: false } });
        expect((answer.error as { message: string }).message).toMatch(
          /^the result is \d+ bytes, over the limit of 1024/,
        );
      },
      1024,
    );
  });

  it('aborts the handler at the request deadline and refuses requests past it', async () => {
    await withResponder(
      (_req, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async () => {
        const soon = request({ deadline: Date.now() + 200 });
        await publisher.publish('test-requests', JSON.stringify(soon));
        expect(await withDeadline(reply(soon.request_id as string), 5000, 'reply')).toMatchObject({
          status: 'error',
          error: { code: 'TIMEOUT', retryable: true },
        });
        const stale = request({ deadline: Date.now() - 1000 });
        await publisher.publish('test-requests', JSON.stringify(stale));
        expect(await withDeadline(reply(stale.request_id as string), 5000, 'reply')).toMatchObject({
          error: { code: 'TIMEOUT', message: 'the request arrived after its deadline' },
        });
      },
    );
  });

  it('close() aborts work in flight, which still answers, and stops listening', async () => {
    const responder = new ServiceResponder({
      channel: 'test-requests',
      redis: { host: server.host, port: server.port },
      logger,
      handler: (_req, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await responder.start();
    const started = once(responder, 'request');
    const work = request();
    await publisher.publish('test-requests', JSON.stringify(work));
    await withDeadline(started, 5000, 'the request');
    await Promise.all([responder.close(), responder.close()]);
    expect(await withDeadline(reply(work.request_id as string), 5000, 'reply')).toMatchObject({
      error: { code: 'SERVICE_UNAVAILABLE', message: 'service on test-requests is shutting down', retryable: true },
    });
    expect(await publisher.publish('test-requests', JSON.stringify(request()))).toBe(0);
  });
});
