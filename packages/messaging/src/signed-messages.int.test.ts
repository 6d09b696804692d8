import { once } from 'node:events';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import type { ServiceRequest } from './envelope';
import { type DroppedMessage, MessageCoordinator } from './message-coordinator';
import { MessageSigner } from './message-signer';
import { type RejectedMessage, ServiceResponder } from './service-responder';

const SECRET = 'service-secret-for-tests-0123456789abcdef';
const logger = createLogger({ level: 'error' });

/** A request as an attacker with Redis access would publish it, signed or not. */
const envelope = (id: string, overrides: Partial<ServiceRequest> = {}): ServiceRequest => ({
  type: 'request',
  request_id: id,
  execution_id: 'e1',
  task_id: 't1',
  attempt: 1,
  idempotency_key: 'e1:t1',
  operation: 'run',
  parameters: { command: ['id'] },
  reply_channel: 'data-responses',
  deadline: Date.now() + 10_000,
  ...overrides,
});

describe('signed service messages', () => {
  let server: RedisServer;
  let redis: Redis;
  let responder: ServiceResponder;
  const handled: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    const settings = { host: server.host, port: server.port };
    redis = createRedisConnection(settings, 'worker');
    responder = new ServiceResponder({
      channel: 'data-requests',
      redis: settings,
      logger,
      secret: SECRET,
      handler: async (request) => {
        handled.push(request.request_id);
        return { ran: request.request_id };
      },
    });
    await responder.start();
  });
  afterAll(async () => {
    await responder.close();
    redis.disconnect();
    await server.stop();
  });

  /** Publishes `text` on data-requests and resolves with the responder's verdict: rejected, or the request it ran. */
  async function publish(text: string): Promise<{ rejected?: RejectedMessage; request?: ServiceRequest }> {
    const rejected = once(responder, 'rejected').then(([r]) => ({ rejected: r as RejectedMessage }));
    const request = once(responder, 'request').then(([r]) => ({ request: r as ServiceRequest }));
    await redis.publish('data-requests', text);
    return withDeadline(Promise.race([rejected, request]), 5000, 'the responder to judge the message');
  }

  it('runs nothing for a bare unsigned PUBLISH, a wrong secret, a stale or a replayed message', async () => {
    const bare = await publish(JSON.stringify(envelope('bare')));
    expect(bare.rejected).toEqual({ reason: 'unsigned', detail: 'the message carries no signature' });
    const forged = await publish(
      new MessageSigner('not-the-secret').wrap('data-requests', JSON.stringify(envelope('f'))),
    );
    expect(forged.rejected?.reason).toBe('bad signature');
    const old = new MessageSigner(SECRET, { now: () => Date.now() - 61_000 });
    expect((await publish(old.wrap('data-requests', JSON.stringify(envelope('old'))))).rejected?.reason).toBe('stale');
    // Signed for another service's channel: the channel is part of the MAC.
    const elsewhere = new MessageSigner(SECRET).wrap('ai-requests', JSON.stringify(envelope('moved')));
    expect((await publish(elsewhere)).rejected?.reason).toBe('bad signature');
    const good = new MessageSigner(SECRET).wrap('data-requests', JSON.stringify(envelope('good')));
    expect((await publish(good)).request?.request_id).toBe('good');
    expect((await publish(good)).rejected?.reason).toBe('replayed');
    expect(handled).toEqual(['good']);
  });

  it('answers with signed replies that a coordinator with the secret accepts', async () => {
    const coordinator = new MessageCoordinator({
      redis: { host: server.host, port: server.port },
      logger,
      secret: SECRET,
    });
    try {
      const result = await coordinator.request(
        'data-requests',
        'data-responses',
        { execution_id: 'e2', task_id: 't', attempt: 1, operation: 'run', parameters: {} },
        { deadline: Date.now() + 5000 },
      );
      expect(result).toEqual({ ran: expect.any(String) });
    } finally {
      await coordinator.close();
    }
  });

  it('drops a forged reply at the coordinator and still takes the real one', async () => {
    const settings = { host: server.host, port: server.port };
    const coordinator = new MessageCoordinator({ redis: settings, logger, secret: SECRET });
    const service = createRedisConnection(settings, 'worker');
    const publisher = createRedisConnection(settings, 'worker');
    try {
      await service.subscribe('exec-requests');
      const requests = once(service, 'message');
      const call = coordinator.request(
        'exec-requests',
        'exec-responses',
        { execution_id: 'e3', task_id: 't', attempt: 1, operation: 'run', parameters: {} },
        { deadline: Date.now() + 5000 },
      );
      const [, text] = (await withDeadline(requests, 5000, 'the request')) as [string, string];
      const unwrapped = new MessageSigner(SECRET).unwrap('exec-requests', text);
      if (!unwrapped.ok) throw new Error(`the coordinator sent an unverifiable request: ${unwrapped.detail}`);
      const id = (JSON.parse(unwrapped.text) as ServiceRequest).request_id;
      const reply = (result: unknown) => JSON.stringify({ type: 'response', request_id: id, status: 'ok', result });
      const dropped = once(coordinator, 'dropped');
      await publisher.publish('exec-responses', reply('uid=0(root) from an attacker'));
      const [drop] = (await withDeadline(dropped, 5000, 'the forged reply to be dropped')) as [DroppedMessage];
      expect(drop).toMatchObject({ channel: 'exec-responses', reason: 'forged' });
      await publisher.publish('exec-responses', new MessageSigner('wrong').wrap('exec-responses', reply('forged too')));
      await publisher.publish('exec-responses', new MessageSigner(SECRET).wrap('exec-responses', reply('genuine')));
      expect(await call).toBe('genuine');
    } finally {
      service.disconnect();
      publisher.disconnect();
      await coordinator.close();
    }
  });
});
