import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import type { ServiceRequest } from './envelope';
import { type DroppedMessage, MessageCoordinator, type RequestFields } from './message-coordinator';
import { ServiceCallError } from './service-call-error';
import { type CancelEvent, ServiceResponder } from './service-responder';

const fields: RequestFields = {
  execution_id: 'exec-1',
  task_id: 'graph',
  attempt: 2,
  correlation_id: 'corr-1',
  operation: 'traverse',
  parameters: { query: { cypher: 'MATCH (n) RETURN n LIMIT 1' } },
};

/** A service played by hand: every message on `channel`, in order. */
class RawService {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  constructor(
    private readonly subscriber: Redis,
    readonly publisher: Redis,
  ) {
    subscriber.on('message', (_channel: string, text: string) => {
      this.messages.push(JSON.parse(text));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
  static async start(server: RedisServer, channel: string): Promise<RawService> {
    const settings = { host: server.host, port: server.port };
    const service = new RawService(
      createRedisConnection(settings, 'worker'),
      createRedisConnection(settings, 'worker'),
    );
    await service.subscriber.subscribe(channel);
    return service;
  }
  async message(index: number): Promise<Record<string, unknown>> {
    while (this.messages.length <= index) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.messages[index] as Record<string, unknown>;
  }
  async close(): Promise<void> {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

describe('MessageCoordinator', () => {
  let server: RedisServer;
  let coordinator: MessageCoordinator;
  let logStream: PassThrough;
  let logText: string;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    logText = '';
    logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    const logger = createLogger({ level: 'debug', stream: logStream });
    coordinator = new MessageCoordinator({ redis: { host: server.host, port: server.port }, logger });
  });
  afterEach(async () => {
    await coordinator.close();
  });

  const deadline = (ms = 5000) => Date.now() + ms;
  const logger = createLogger({ level: 'error' });

  it('sends the documented envelope and resolves with the result', async () => {
    const responder = new ServiceResponder({
      channel: 'data-requests',
      redis: { host: server.host, port: server.port },
      logger,
      handler: async (request) => ({ echo: request }),
    });
    await responder.start();
    try {
      const before = Date.now();
      const result = (await coordinator.request('data-requests', 'data-responses', fields, {
        deadline: before + 5000,
      })) as { echo: ServiceRequest };
      expect(result.echo).toEqual({
        type: 'request',
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        correlation_id: 'corr-1',
        execution_id: 'exec-1',
        task_id: 'graph',
        attempt: 2,
        idempotency_key: 'exec-1:graph',
        operation: 'traverse',
        parameters: fields.parameters,
        reply_channel: 'data-responses',
        deadline: before + 5000,
      });
      expect(coordinator.pendingCount).toBe(0);
      // Many calls at once share one subscription and each gets its own answer.
      const many = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          coordinator.request(
            'data-requests',
            'data-responses',
            { ...fields, task_id: `t${i}` },
            { deadline: deadline() },
          ),
        ),
      );
      expect(many.map((r) => (r as { echo: ServiceRequest }).echo.task_id)).toEqual(
        Array.from({ length: 50 }, (_, i) => `t${i}`),
      );
      const ids = new Set(many.map((r) => (r as { echo: ServiceRequest }).echo.request_id));
      expect(ids.size).toBe(50);
    } finally {
      await responder.close();
    }
  });

  it('fails at once, retryably, when nobody listens on the channel', async () => {
    const started = Date.now();
    const error = await coordinator
      .request('exec-requests', 'exec-responses', fields, { deadline: deadline(30_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCallError);
    expect(error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      retryable: true,
      message: 'no exec-agent is listening on exec-requests',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('maps error responses to ServiceCallError keeping retryable and the remote code', async () => {
    const service = await RawService.start(server, 'ai-requests');
    try {
      const call = () =>
        coordinator.request('ai-requests', 'ai-responses', fields, { deadline: deadline() }).catch((e: unknown) => e);
      const first = call();
      const request = await withDeadline(service.message(0), 5000, 'the request');
      await service.publisher.publish(
        'ai-responses',
        JSON.stringify({
          request_id: request.request_id,
          status: 'error',
          error: { code: 'BAD_REQUEST', message: 'unknown model', retryable: false },
        }),
      );
      expect(await first).toMatchObject({
        code: 'UPSTREAM_ERROR',
        remoteCode: 'BAD_REQUEST',
        retryable: false,
        message: 'ai-abstractor: unknown model (BAD_REQUEST)',
      });
      const second = call();
      const again = await withDeadline(service.message(1), 5000, 'the second request');
      await service.publisher.publish(
        'ai-responses',
        JSON.stringify({
          request_id: again.request_id,
          status: 'error',
          error: { code: 'TIMEOUT', message: 'model busy', retryable: true },
        }),
      );
      expect(await second).toMatchObject({ code: 'TIMEOUT', retryable: true });
    } finally {
      await service.close();
    }
  });

  it('times out at the deadline, retryably, and sends the service a cancel', async () => {
    const service = await RawService.start(server, 'data-requests');
    try {
      const error = await coordinator
        .request('data-requests', 'data-responses', fields, { deadline: deadline(300) })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect((error as Error).message).toMatch(/^data-abstractor did not answer on data-responses within \d+ ms/);
      const request = await service.message(0);
      expect(await withDeadline(service.message(1), 5000, 'the cancel')).toEqual({
        type: 'cancel',
        request_id: request.request_id,
      });
    } finally {
      await service.close();
    }
  });

  it('refuses a deadline that has passed without publishing', async () => {
    const service = await RawService.start(server, 'data-requests');
    try {
      await expect(
        coordinator.request('data-requests', 'data-responses', fields, { deadline: Date.now() - 1 }),
      ).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
      await expect(
        coordinator.request('data-requests', 'data-responses', fields, { deadline: Number.NaN }),
      ).rejects.toThrow(TypeError);
      expect(service.messages).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('stops waiting when the signal aborts and cancels the work at the service', async () => {
    let handlerSignal: AbortSignal | undefined;
    const responder = new ServiceResponder({
      channel: 'exec-requests',
      redis: { host: server.host, port: server.port },
      logger,
      handler: (_request, signal) => {
        handlerSignal = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    await responder.start();
    try {
      const controller = new AbortController();
      const received = once(responder, 'request');
      const call = coordinator
        .request('exec-requests', 'exec-responses', fields, { deadline: deadline(), signal: controller.signal })
        .catch((e: unknown) => e);
      const [request] = (await withDeadline(received, 5000, 'the request at the service')) as [ServiceRequest];
      const cancelled = once(responder, 'cancel');
      controller.abort(new Error('run cancelled'));
      expect(await call).toMatchObject({
        code: 'TASK_FAILED',
        message: 'the call to exec-agent was cancelled: run cancelled',
      });
      const [event] = (await withDeadline(cancelled, 5000, 'the cancel at the service')) as [CancelEvent];
      expect(event).toEqual({ requestId: request.request_id, active: true });
      expect(handlerSignal?.aborted).toBe(true);
      // An already aborted signal never publishes.
      await expect(
        coordinator.request('exec-requests', 'exec-responses', fields, {
          deadline: deadline(),
          signal: controller.signal,
        }),
      ).rejects.toMatchObject({ code: 'TASK_FAILED' });
      expect(responder.activeCount).toBe(0);
    } finally {
      await responder.close();
    }
  });

  it('logs and drops late and unknown responses', async () => {
    const service = await RawService.start(server, 'data-requests');
    try {
      await expect(
        coordinator.request('data-requests', 'data-responses', fields, { deadline: deadline(200) }),
      ).rejects.toMatchObject({ code: 'TIMEOUT' });
      const request = await service.message(0);
      const late = once(coordinator, 'dropped');
      await service.publisher.publish(
        'data-responses',
        JSON.stringify({ request_id: request.request_id, status: 'ok', result: { rows: [] } }),
      );
      const [dropped] = (await withDeadline(late, 5000, 'the late response')) as [DroppedMessage];
      expect(dropped).toEqual({ channel: 'data-responses', reason: 'late', requestId: request.request_id });
      expect(logText).toContain('dropped a late response');
      const unknown = once(coordinator, 'dropped');
      await service.publisher.publish(
        'data-responses',
        JSON.stringify({ request_id: 'other', status: 'ok', result: 1 }),
      );
      expect((await withDeadline(unknown, 5000, 'the unknown response'))[0]).toMatchObject({ reason: 'unknown' });
    } finally {
      await service.close();
    }
  });

  it('fails the matching call on a malformed response and drops unreadable ones', async () => {
    const service = await RawService.start(server, 'data-requests');
    try {
      const call = coordinator
        .request('data-requests', 'data-responses', fields, { deadline: deadline() })
        .catch((e: unknown) => e);
      const request = await withDeadline(service.message(0), 5000, 'the request');
      const garbage = once(coordinator, 'dropped');
      await service.publisher.publish('data-responses', '{not json');
      expect((await withDeadline(garbage, 5000, 'the garbage'))[0]).toMatchObject({ reason: 'malformed' });
      expect(coordinator.pendingCount).toBe(1);
      await service.publisher.publish(
        'data-responses',
        JSON.stringify({ request_id: request.request_id, status: 'done', rows: [] }),
      );
      const error = await call;
      expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: false });
      expect((error as Error).message).toMatch(
        /^data-abstractor sent a malformed response on data-responses: invalid response: .*\/status must be equal to one of the allowed values/,
      );
    } finally {
      await service.close();
    }
  });

  it('close() rejects pending calls, is idempotent and leaves injected clients open', async () => {
    const settings = { host: server.host, port: server.port };
    const publisher = createRedisConnection(settings, 'worker');
    const subscriber = createRedisConnection(settings, 'worker');
    const injected = new MessageCoordinator({ publisher, subscriber, logger });
    const service = await RawService.start(server, 'ai-requests');
    try {
      const call = injected
        .request('ai-requests', 'ai-responses', fields, { deadline: deadline(60_000) })
        .catch((e: unknown) => e);
      const request = await withDeadline(service.message(0), 5000, 'the request');
      await Promise.all([injected.close(), injected.close()]);
      expect(await call).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        retryable: true,
        message: `the message coordinator was closed while waiting for ai-abstractor (request ${request.request_id})`,
      });
      expect(await withDeadline(service.message(1), 5000, 'the cancel')).toEqual({
        type: 'cancel',
        request_id: request.request_id,
      });
      await expect(injected.request('ai-requests', 'ai-responses', fields, { deadline: deadline() })).rejects.toThrow(
        'the message coordinator is closed; cannot call ai-abstractor',
      );
      expect(await publisher.ping()).toBe('PONG');
      // The subscriber gave back its channel and is usable by its owner.
      expect(await subscriber.unsubscribe()).toBe(0);
      expect(await subscriber.ping()).toBe('PONG');
    } finally {
      publisher.disconnect();
      subscriber.disconnect();
      await service.close();
    }
  });
});
