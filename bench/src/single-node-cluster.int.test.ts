import { createRedisClient, type RedisClient } from '@orch/redis';
import { type BenchCluster, startSingleNodeCluster } from './single-node-cluster';

jest.setTimeout(30_000);

let cluster: BenchCluster;
let client: RedisClient | undefined;

beforeAll(async () => {
  cluster = await startSingleNodeCluster();
});

afterAll(async () => {
  await client?.quit().catch(() => client?.disconnect());
  await cluster?.stop();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startSingleNodeCluster', () => {
  it('serves every slot from one primary to a Cluster client, and stop ends that process', async () => {
    const [node] = cluster.nodes;
    expect(node && alive(node.pid)).toBe(true);
    expect(await cluster.primaries()).toEqual([{ port: node?.port, slots: [[0, 16383]], node: { pid: node?.pid } }]);
    client = createRedisClient({ host: '', port: 0, clusterNodes: cluster.startupNodes }, 'worker', 'test');
    // Keys of many slots (and a multi-key command within one tag) all land on the one node.
    for (let i = 0; i < 50; i++) await client.set(`k${i}`, String(i));
    await client.mset('{t}a', '1', '{t}b', '2');
    expect(await client.mget('{t}a', '{t}b')).toEqual(['1', '2']);
    expect(await client.get('k49')).toBe('49');
    await client.quit();
    client = undefined;
    await cluster.stop();
    expect(alive(node?.pid ?? 0)).toBe(false);
  });
});
