import { createLogger } from '@orch/logger';
import { respCommand } from '@orch/process';
import {
  closeConnection,
  createRedisClient,
  createRedisConnection,
  publishCounted,
  type RedisClient,
} from '@orch/redis';
import { type RedisCluster, startRedisCluster, waitUntil, withDeadline } from '@orch/testing';
import { MessageCoordinator } from './message-coordinator';
import { ServiceCallError } from './service-call-error';
import { ServiceResponder } from './service-responder';

jest.setTimeout(60_000);

const logger = createLogger({ level: 'error' });
let cluster: RedisCluster;
const clients: RedisClient[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  for (const client of clients) await closeConnection(client);
  await cluster?.stop();
});

const settings = () => ({ host: 'unused', port: 1, clusterNodes: cluster.startupNodes });

/** The port of the node holding the Cluster subscriber connection named `name` (ioredis names it after ours). */
async function subscriberNode(name: string): Promise<number | undefined> {
  for (const node of cluster.nodes) {
    const list = String(await respCommand(node.host, node.port, ['CLIENT', 'LIST']));
    if (list.includes(` name=ioredis-cluster(subscriber):${name} `)) return node.port;
  }
  return undefined;
}

describe('pub/sub on a Redis Cluster', () => {
  it('delivers a PUBLISH made on any node to a Cluster subscriber connected through another one', async () => {
    const subscriber = createRedisClient(settings(), 'subscriber', 'sub-probe');
    clients.push(subscriber);
    const got: string[] = [];
    subscriber.on('message', (channel: string, message: string) => got.push(`${channel} ${message}`));
    await subscriber.subscribe('probe');
    const home = await subscriberNode('sub-probe');
    expect(home).toBeDefined();
    const elsewhere = cluster.nodes.filter((n) => n.port !== home);
    expect(elsewhere).toHaveLength(5);
    for (const node of elsewhere) {
      const direct = createRedisConnection({ host: node.host, port: node.port }, 'worker');
      clients.push(direct);
      // The node's own reply counts only its subscribers (none); the cluster bus carries the message on.
      expect(await direct.publish('probe', `via ${node.port}`)).toBe(0);
      expect(await publishCounted(direct, 'probe', `counted via ${node.port}`)).toBe(0); // a plain client cannot know
    }
    const publisher = createRedisClient(settings(), 'worker', 'pub-probe');
    clients.push(publisher);
    expect(await publishCounted(publisher, 'probe', 'through the cluster client')).toBe(1);
    const expected = elsewhere.flatMap((n) => [`probe via ${n.port}`, `probe counted via ${n.port}`]);
    expected.push('probe through the cluster client');
    await waitUntil(async () => got.length >= expected.length, 10_000, 'every message');
    expect(got.sort()).toEqual(expected.sort());
  });

  it('runs service calls between a MessageCoordinator and a ServiceResponder made from cluster settings', async () => {
    const responder = new ServiceResponder({
      channel: 'data-requests',
      service: 'data-abstractor',
      redis: settings(),
      logger,
      handler: async (request) => ({ echo: request.parameters }),
    });
    await responder.start();
    const coordinator = new MessageCoordinator({ redis: settings(), logger });
    try {
      const fields = { execution_id: 'e', task_id: 't', attempt: 1, operation: 'echo' };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          coordinator.request(
            'data-requests',
            'data-responses',
            { ...fields, parameters: { n } },
            {
              deadline: Date.now() + 10_000,
            },
          ),
        ),
      );
      expect(results).toEqual(Array.from({ length: 20 }, (_, n) => ({ echo: { n } })));
      // Nobody on a channel: refused at once, counted over every node, not after the deadline.
      const started = Date.now();
      const refused = await coordinator
        .request('ai-requests', 'ai-responses', { ...fields, parameters: {} }, { deadline: Date.now() + 20_000 })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ServiceCallError);
      expect((refused as ServiceCallError).code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await withDeadline(Promise.all([coordinator.close(), responder.close()]), 10_000, 'closing');
    }
  });
});
