import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@orch/config';
import { infoFields, respCommand } from '@orch/process';
import { freePort } from '@orch/testing';
import { startStack } from './service-stack';
import { chooseRedis } from './stack-redis';

jest.setTimeout(120_000);

const refused = (port: number) =>
  respCommand('127.0.0.1', port, ['PING']).then(
    () => false,
    () => true,
  );
const savedPorts = (workspace: string) =>
  (JSON.parse(readFileSync(join(workspace, 'redis-cluster', 'cluster.json'), 'utf8')) as { ports: number[] }).ports;

describe('orchestrator up --cluster', () => {
  it('starts a private 3+3 cluster, points the environment at it, and brings the same cluster back next time', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'orch-up-cluster-'));
    const env: Record<string, string> = {
      ORCHESTRATOR_WORKSPACE: workspace,
      REDIS_URL: 'redis://elsewhere:6379',
      REDIS_DATABASE: '2',
    };
    const lines: string[] = [];
    const children: { name: string; child: ChildProcess }[] = [];
    const first = await chooseRedis(env, (l) => lines.push(l), children, { primaries: 3, replicas: 1 });
    const cluster = first.cluster;
    if (!cluster) throw new Error('no cluster');
    try {
      expect(children).toEqual([]); // no standalone redis-server
      expect(cluster.nodes).toHaveLength(6);
      expect(first.redis).toMatchObject({ private: true, cluster: { spec: cluster.spec, primaries: 3, replicas: 1 } });
      expect(env.REDIS_CLUSTER_NODES).toBe(cluster.spec);
      expect(env.ORCHESTRATOR_PARTITIONS).toBe('16');
      expect([env.REDIS_URL, env.REDIS_DATABASE]).toEqual([undefined, undefined]);
      // A process not reading REDIS_CLUSTER_NODES would still reach this cluster, not a Redis on 6379.
      expect(`${env.REDIS_HOST}:${env.REDIS_PORT}`).toBe(cluster.spec.split(',')[0]);
      expect(lines).toContain('ignoring REDIS_URL for the private cluster');
      expect(lines.some((l) => l.startsWith('started a private Redis Cluster (3 primaries + 3 replicas)'))).toBe(true);
      // What every service parses out of it.
      const config = loadConfig(env);
      expect(config.redis.clusterNodes).toEqual(cluster.startupNodes);
      expect([config.partitions, config.replicaAcks.replicas]).toEqual([16, 1]);
      for (const node of cluster.nodes) {
        const info = infoFields(await respCommand(node.host, node.port, ['INFO', 'server']));
        expect(info.get('process_id')).toBe(String(node.pid));
        expect(node.dir.startsWith(join(workspace, 'redis-cluster'))).toBe(true);
      }
      await respCommand(cluster.nodes[0]?.host as string, cluster.nodes[0]?.port as number, ['PING']);
    } finally {
      await cluster.stop();
    }
    for (const node of cluster.nodes) expect(await refused(node.port)).toBe(true);

    // The next `up --cluster` in the same workspace: the same ports and data, no new cluster.
    const again: Record<string, string> = { ORCHESTRATOR_WORKSPACE: workspace, ORCHESTRATOR_PARTITIONS: '4' };
    const second = await chooseRedis(again, (l) => lines.push(l), children, { primaries: 3, replicas: 1 });
    try {
      expect(second.cluster?.spec).toBe(cluster.spec);
      expect(second.cluster?.created).toBe(false);
      expect(again.ORCHESTRATOR_PARTITIONS).toBe('4'); // one the environment sets is kept
      expect(lines.some((l) => l.startsWith('restarted the private Redis Cluster'))).toBe(true);
    } finally {
      await second.cluster?.stop();
    }
  });

  it('runs a workflow on the cluster, then stops the cluster processes by pid when the stack stops', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'orch-up-cluster-'));
    const lines: string[] = [];
    const stack = await startStack({
      env: {
        PATH: process.env.PATH,
        ORCHESTRATOR_PORT: String(await freePort()),
        ORCHESTRATOR_WORKSPACE: workspace,
        ORCHESTRATOR_TEMPLATES: join(__dirname, '../../../templates'),
        EXEC_UNSANDBOXED: 'true',
        LOG_LEVEL: 'warn',
      },
      log: (line) => lines.push(line),
      cluster: { primaries: 3, replicas: 1 },
    });
    const ports = savedPorts(workspace);
    expect(ports).toHaveLength(6);
    try {
      expect(stack.redis.cluster?.spec).toBe(ports.map((p) => `127.0.0.1:${p}`).join(','));
      const nodes = stack.processes().filter((p) => p.name.startsWith('redis-'));
      expect(nodes.map((p) => p.name).sort()).toEqual(ports.map((p) => `redis-${p}`).sort());
      // The whole stack works on it: a run submitted through the API ends with its output.
      const workflow = {
        id: 'hello',
        tasks: [{ id: 'say', type: 'transform', parameters: { output: 'on a cluster' } }],
      };
      const answer = await fetch(`${stack.apiUrl}/api/v1/workflows?wait=20s`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workflow }),
      });
      const body = (await answer.json()) as { status: string; record: { tasks: { id: string; output: unknown }[] } };
      expect([answer.status, body.status]).toEqual([200, 'completed']);
      expect(body.record.tasks.find((t) => t.id === 'say')?.output).toBe('on a cluster');
    } finally {
      const stopped = await stack.stop();
      expect(stopped.filter((s) => s.name.startsWith('redis-') && !s.killed)).toHaveLength(6);
    }
    expect(lines.some((l) => l.startsWith('started a private Redis Cluster'))).toBe(true);
    expect(lines.some((l) => /^redis cluster stopped in \d+ ms$/.test(l))).toBe(true);
    for (const port of ports) expect(await refused(port)).toBe(true);
  });
});
