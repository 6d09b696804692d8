import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { DataAbstractor } from '@orch/data-abstractor/testing';
import { PermanentTaskError, type TaskContext } from '@orch/engine';
import { createLogger } from '@orch/logger';
import { type DroppedMessage, MessageCoordinator, ServiceCallError, ServiceResponder } from '@orch/messaging';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { createDataTask } from './data.task';

const quiet = createLogger({ level: 'error' });
const traverse = { operation: 'traverse', query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 100' } } as const;

/**
 * The data handler against services that misbehave on purpose: a scripted responder, or a raw subscriber that
 * answers (or not) by hand. The same coordinator code serves ai and exec, so these cases cover all three.
 */
describe('data task handler: failure modes', () => {
  let server: RedisServer;
  let coordinator: MessageCoordinator;
  let logText: string;
  let raw: {
    sub: Redis;
    pub: Redis;
    requests: Record<string, unknown>[];
    next: () => Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    logText = '';
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    coordinator = new MessageCoordinator({
      redis: { host: server.host, port: server.port },
      logger: createLogger({ level: 'info', stream }),
    });
  });
  afterEach(async () => {
    await coordinator.close();
    if (raw) {
      raw.sub.disconnect();
      raw.pub.disconnect();
    }
  });

  /** A "service" that only records what arrives on data-requests. */
  async function rawService() {
    const settings = { host: server.host, port: server.port };
    const requests: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    const sub = createRedisConnection(settings, 'worker');
    sub.on('message', (_c: string, text: string) => {
      requests.push(JSON.parse(text));
      wake?.();
    });
    await sub.subscribe('data-requests');
    const next = async () => {
      const index = requests.length;
      while (requests.length <= index) await new Promise<void>((resolve) => (wake = resolve));
      return requests[index] as Record<string, unknown>;
    };
    raw = { sub, pub: createRedisConnection(settings, 'worker'), requests, next };
    return raw;
  }

  const context = (overrides: Partial<TaskContext> = {}): TaskContext => ({
    executionId: 'exec-9',
    taskId: 'graph_traversal',
    correlationId: 'corr-9',
    attempt: 3,
    signal: new AbortController().signal,
    deadline: Date.now() + 10_000,
    log: () => undefined,
    logger: quiet,
    ...overrides,
  });

  it('sends the attempt in the envelope and keeps a retryable service error retryable', async () => {
    const seen: Record<string, unknown>[] = [];
    const responder = new ServiceResponder({
      channel: 'data-requests',
      redis: { host: server.host, port: server.port },
      logger: quiet,
      handler: async (request) => {
        seen.push(request as unknown as Record<string, unknown>);
        throw new ServiceCallError('SERVICE_UNAVAILABLE', 'neo4j is restarting', { retryable: true });
      },
    });
    await responder.start();
    try {
      const error = await createDataTask({ coordinator })(traverse, context()).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(PermanentTaskError);
      expect(error).toMatchObject({
        retryable: true,
        message: 'data-abstractor: neo4j is restarting (SERVICE_UNAVAILABLE)',
      });
      expect(seen[0]).toMatchObject({
        operation: 'traverse',
        execution_id: 'exec-9',
        task_id: 'graph_traversal',
        correlation_id: 'corr-9',
        attempt: 3,
        idempotency_key: 'exec-9:graph_traversal',
        parameters: traverse,
        reply_channel: 'data-responses',
      });
    } finally {
      await responder.close();
    }
  });

  it('times out retryably, cancels at the service, then logs and drops the late answer', async () => {
    const service = await rawService();
    const arrived = service.next();
    const error = await createDataTask({ coordinator })(traverse, context({ deadline: Date.now() + 300 })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const request = await arrived;
    expect(await withDeadline(service.next(), 5000, 'the cancel')).toEqual({
      type: 'cancel',
      request_id: request.request_id,
    });
    const dropped = once(coordinator, 'dropped');
    await service.pub.publish(
      'data-responses',
      JSON.stringify({ request_id: request.request_id, status: 'ok', result: { rows: [], count: 0 } }),
    );
    const [event] = (await withDeadline(dropped, 5000, 'the late answer')) as [DroppedMessage];
    expect(event).toMatchObject({ reason: 'late', requestId: request.request_id });
    expect(logText).toContain('"message":"dropped a late response: its caller stopped waiting"');
    expect(logText).toContain(`"request_id":"${request.request_id}"`);
  });

  it('fails permanently on a malformed answer to its request', async () => {
    const service = await rawService();
    const arrived = service.next();
    const call = createDataTask({ coordinator })(traverse, context()).catch((e: unknown) => e);
    const request = await withDeadline(arrived, 5000, 'the request');
    await service.pub.publish('data-responses', JSON.stringify({ request_id: request.request_id, rows: [] }));
    const error = await call;
    expect(error).toBeInstanceOf(PermanentTaskError);
    expect((error as Error).message).toMatch(
      /^data-abstractor sent a malformed response on data-responses: invalid response: \/ must have required property 'status'/,
    );
  });

  it('fails permanently when the result is larger than a service may publish', async () => {
    const service = new DataAbstractor({
      redis: { host: server.host, port: server.port },
      logger: quiet,
      maxResponseBytes: 2000,
    });
    await service.start();
    try {
      const error = await createDataTask({ coordinator })(traverse, context()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentTaskError);
      expect((error as Error).message).toMatch(
        /^data-abstractor: the result is \d+ bytes, over the limit of 2000 bytes/,
      );
      // A small answer still fits.
      const small = await createDataTask({ coordinator })(
        { operation: 'traverse', query: { cypher: 'MATCH (t:Topic) RETURN t LIMIT 1' } },
        context(),
      );
      expect(small).toMatchObject({ count: 1 });
    } finally {
      await service.close();
    }
  });
});
