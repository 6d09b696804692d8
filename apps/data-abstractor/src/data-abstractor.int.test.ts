import { createLogger } from '@orch/logger';
import { MessageCoordinator, SERVICE_CHANNELS } from '@orch/messaging';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { DataAbstractor } from './data-abstractor';

const logger = createLogger({ level: 'error' });
const { requests, responses } = SERVICE_CHANNELS.data;

describe('DataAbstractor over Redis', () => {
  let server: RedisServer;
  let service: DataAbstractor;
  let coordinator: MessageCoordinator;

  beforeAll(async () => {
    server = await startRedisServer();
    const redis = { host: server.host, port: server.port };
    service = new DataAbstractor({ redis, logger });
    await service.start();
    coordinator = new MessageCoordinator({ redis, logger });
  });
  afterAll(async () => {
    await coordinator.close();
    await service.close();
    await server.stop();
  });

  const call = (operation: string, parameters: Record<string, unknown>) =>
    coordinator.request(
      requests,
      responses,
      { execution_id: 'e', task_id: 't', attempt: 1, operation, parameters },
      { deadline: Date.now() + 5000 },
    );

  it('answers the data-analysis-basic template’s two queries', async () => {
    const [graph, search] = (await Promise.all([
      call('traverse', {
        operation: 'traverse',
        query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 5' },
        enrich: ['metadata'],
      }),
      call('search', { operation: 'search', collection: 'documents', text: 'workflow orchestration', top_k: 4 }),
    ])) as [{ rows: unknown[]; count: number }, { matches: unknown[]; count: number }];
    expect(graph.count).toBe(5);
    expect(graph.rows).toHaveLength(5);
    expect(search.count).toBe(4);
  });

  it('answers a bad query with a permanent error', async () => {
    await expect(call('traverse', { query: { cypher: 'CALL db.labels()' } })).rejects.toMatchObject({
      retryable: false,
      remoteCode: 'BAD_REQUEST',
    });
  });
});
