import { once } from 'node:events';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import type { ServiceRequest } from './envelope';
import { type DroppedMessage, MessageCoordinator } from './message-coordinator';
import { ServiceResponder } from './service-responder';

const SECRET = 'service-secret-for-tests-0123456789abcdef';
const logger = createLogger({ level: 'error' });

describe('output messages: a running request streams its output to its caller', () => {
  let server: RedisServer;
  let redis: Redis;
  let responder: ServiceResponder;
  let coordinator: MessageCoordinator;
  /** Resolves the request the responder runs at the moment, when the test says so. */
  let finish: () => void = () => undefined;
  let running: (request: ServiceRequest) => void = () => undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    const settings = { host: server.host, port: server.port };
    redis = createRedisConnection(settings, 'worker');
    responder = new ServiceResponder({
      channel: 'exec-requests',
      redis: settings,
      logger,
      secret: SECRET,
      handler: async (request, _signal, output) => {
        output('stdout', 'one\n');
        output('stderr', 'warn\n');
        running(request);
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        output('stdout', 'two\n');
        return 'done';
      },
    });
    await responder.start();
    coordinator = new MessageCoordinator({ redis: settings, logger, secret: SECRET });
  });
  afterAll(async () => {
    await coordinator.close();
    await responder.close();
    redis.disconnect();
    await server.stop();
  });

  it('delivers the pieces in order, before the response; a forged piece reaches nobody', async () => {
    const pieces: string[] = [];
    const started = new Promise<ServiceRequest>((resolve) => {
      running = resolve;
    });
    const call = coordinator.request(
      'exec-requests',
      'exec-responses',
      { execution_id: 'e1', task_id: 't1', attempt: 1, operation: 'run', parameters: {} },
      { deadline: Date.now() + 10_000, onOutput: (stream, data) => pieces.push(`${stream}:${data}`) },
    );
    const request = await withDeadline(started, 5000, 'the request to run');
    // An attacker on Redis publishes an unsigned piece for the same request: it is dropped, not delivered.
    const dropped = once(coordinator, 'dropped');
    const forged = { type: 'output', request_id: request.request_id, stream: 'stdout', data: 'rm -rf /\n' };
    await redis.publish('exec-responses', JSON.stringify(forged));
    const [why] = (await withDeadline(dropped, 5000, 'the forged piece to be dropped')) as [DroppedMessage];
    expect(why.reason).toBe('forged');
    finish();
    expect(await call).toBe('done');
    expect(pieces).toEqual(['stdout:one\n', 'stderr:warn\n', 'stdout:two\n']);
  });
});
