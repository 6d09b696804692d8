import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infoFields, startRedisCluster as launchCluster, respCommand } from '@orch/process';
import { type RedisCluster, startRedisCluster } from './redis-cluster';
import { startRedisServer } from './redis-server';

jest.setTimeout(60_000);

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(() => cluster?.stop());

const info = async (port: number, section: string) =>
  infoFields(await respCommand('127.0.0.1', port, ['INFO', section]));

describe('startRedisCluster', () => {
  it('starts 3 primaries and 3 replicas of its own, every slot served, in the spec REDIS_CLUSTER_NODES takes', async () => {
    expect(cluster.nodes).toHaveLength(6);
    for (const node of cluster.nodes)
      expect((await info(node.port, 'server')).get('process_id')).toBe(String(node.pid));
    const primaries = await cluster.primaries();
    expect(primaries).toHaveLength(3);
    const slots = primaries.flatMap((p) => p.slots).reduce((sum, [from, to]) => sum + to - from + 1, 0);
    expect(slots).toBe(16384);
    expect(cluster.spec.split(',')).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port}`));
    const owner = await cluster.nodeOfSlot(0);
    expect(owner.slots.some(([from]) => from === 0)).toBe(true);
  });

  it('fails a killed primary over to its replica, and takes the killed node back as a replica', async () => {
    const victim = (await cluster.nodeOfSlot(100)).node;
    await cluster.kill(victim);
    // The default node timeout (5 s) and an election; a loaded CI machine has taken longer than 30 s.
    const heir = await cluster.waitForFailover(victim, 60_000);
    expect(heir.node).not.toBe(victim);
    expect(heir.slots.some(([from, to]) => from <= 100 && to >= 100)).toBe(true);
    expect((await cluster.nodeOfSlot(100)).id).toBe(heir.id);
    await cluster.restart(victim);
    expect((await info(victim.port, 'server')).get('process_id')).toBe(String(victim.pid));
    const deadline = Date.now() + 20_000;
    while ((await info(victim.port, 'replication').catch(() => new Map())).get('master_link_status') !== 'up') {
      if (Date.now() > deadline) throw new Error('the restarted node did not become a linked replica');
      await new Promise((resolve) => setTimeout(resolve, 100)); // poll: its resync announces itself to nobody
    }
    expect((await info(victim.port, 'replication')).get('role')).toBe('slave');
  }, 120_000);

  it('stops every node it started and removes its data', async () => {
    const other = await startRedisCluster({ primaries: 3, replicas: 0 });
    const dir = other.nodes[0]?.dir as string;
    await other.stop();
    for (const node of other.nodes) {
      await expect(respCommand('127.0.0.1', node.port, ['PING'])).rejects.toThrow(/ECONNREFUSED/);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a port another redis-server holds, and leaves that server alone', async () => {
    const foreign = await startRedisServer();
    const dir = mkdtempSync(join(tmpdir(), 'orch-cluster-taken-'));
    try {
      // A cluster to bring back whose saved ports include one the other server now has.
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ ports: [foreign.port], primaries: 1, replicas: 0 }));
      await expect(launchCluster({ dir, reuse: true, startTimeoutMs: 5000 })).rejects.toThrow(
        new RegExp(`port ${foreign.port} answers as another redis-server|redis-server on port ${foreign.port} exited`),
      );
      await expect(respCommand('127.0.0.1', foreign.port, ['PING'])).resolves.toBe('PONG');
    } finally {
      await foreign.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
