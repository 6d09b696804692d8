import {
  type ConnectionProfile,
  createRedisClient,
  createRedisConnection,
  Partitions,
  type RedisClient,
  type RedisSettings,
} from '@orch/redis';
import { startRedisCluster } from '@orch/testing';
import type { Redis } from 'ioredis';
import { type BenchRedis, parseInfo, startBenchRedis } from './bench-redis';
import { processCpuSeconds } from './cpu';
import { type BenchCluster, startSingleNodeCluster } from './single-node-cluster';

/** One redis-server the bench measures: a primary (or the standalone server), or a replica. */
export interface TopologyNode {
  port: number;
  pid: number;
  role: 'primary' | 'replica';
  /** A plain client to this node alone, for INFO and FLUSHALL. */
  admin: Redis;
  /** Partitions whose slot this primary serves. */
  partitions: number[];
}

/** CPU seconds and `total_commands_processed` of every node, at one moment. */
export type NodeSample = { cpu: number; commands: number }[];

/** A private Redis the cluster bench runs one topology on: standalone, or a cluster of N primaries. */
export interface BenchTopology {
  key: string;
  label: string;
  partitions: number;
  /** Replicas per primary. */
  replicas: number;
  cluster: boolean;
  /** What the bench's processes connect with (REDIS_HOST/PORT or REDIS_CLUSTER_NODES). */
  settings: RedisSettings;
  /** Primaries first, in slot order, then replicas. */
  nodes: TopologyNode[];
  client(profile: ConnectionProfile, name: string): RedisClient;
  /** FLUSHALL on every primary (replicas follow). */
  flush(): Promise<void>;
  sample(): Promise<NodeSample>;
  stop(): Promise<void>;
}

/** Every redis-server pid the bench started and has not stopped, for the runner's signal handler. */
export const serverPids = new Set<number>();

export interface TopologySpec {
  key: string;
  label: string;
  /** 0: standalone (one untagged partition, today's default). */
  primaries: number;
  replicas: number;
  partitions: number;
}

export async function startTopology(spec: TopologySpec): Promise<BenchTopology> {
  return spec.primaries === 0 ? standalone(spec, await startBenchRedis()) : clustered(spec);
}

function base(spec: TopologySpec, nodes: TopologyNode[]) {
  return {
    key: spec.key,
    label: spec.label,
    partitions: spec.partitions,
    replicas: spec.replicas,
    nodes,
    async flush() {
      await Promise.all(nodes.filter((n) => n.role === 'primary').map((n) => n.admin.flushall()));
    },
    async sample(): Promise<NodeSample> {
      return Promise.all(
        nodes.map(async (n) => ({
          cpu: processCpuSeconds(n.pid),
          commands: Number(parseInfo(await n.admin.info('stats')).total_commands_processed),
        })),
      );
    },
  };
}

function standalone(spec: TopologySpec, redis: BenchRedis): Promise<BenchTopology> {
  return (async () => {
    const pid = Number((await redis.info('server')).process_id);
    serverPids.add(pid);
    const node: TopologyNode = { port: redis.server.port, pid, role: 'primary', admin: redis.admin, partitions: [0] };
    return {
      ...base(spec, [node]),
      cluster: false,
      settings: redis.settings,
      client: (profile, name) => createRedisClient(redis.settings, profile, name),
      async stop() {
        await redis.close();
        serverPids.delete(pid);
      },
    };
  })();
}

async function clustered(spec: TopologySpec): Promise<BenchTopology> {
  const cluster: BenchCluster =
    spec.primaries === 1 && spec.replicas === 0
      ? await startSingleNodeCluster()
      : await startRedisCluster({ primaries: spec.primaries, replicas: spec.replicas });
  for (const n of cluster.nodes) serverPids.add(n.pid);
  const admins: Redis[] = [];
  try {
    const connect = (port: number) => {
      const admin = createRedisConnection({ host: '127.0.0.1', port }, 'worker', 'bench-admin');
      admins.push(admin);
      return admin;
    };
    // The launcher's nodes keep an AOF (fsync every second); the standalone bench server keeps none. Off here too,
    // so the topologies differ by clustering alone.
    for (const n of cluster.nodes) await connect(n.port).config('SET', 'appendonly', 'no');
    const partitions = new Partitions(spec.partitions, true);
    const primaries = (await cluster.primaries()).sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0));
    const nodes: TopologyNode[] = primaries.map((p) => ({
      port: p.port,
      pid: p.node.pid,
      role: 'primary',
      admin: admins.find((a) => a.options.port === p.port) as Redis,
      partitions: partitions
        .all()
        .filter((q) =>
          p.slots.some(([from, to]) => (partitions.slotOf(q) ?? -1) >= from && (partitions.slotOf(q) ?? -1) <= to),
        ),
    }));
    for (const n of cluster.nodes) {
      if (nodes.some((p) => p.port === n.port)) continue;
      const admin = admins.find((a) => a.options.port === n.port) as Redis;
      nodes.push({ port: n.port, pid: n.pid, role: 'replica', admin, partitions: [] });
    }
    const settings: RedisSettings = { host: '', port: 0, clusterNodes: cluster.startupNodes };
    return {
      ...base(spec, nodes),
      cluster: true,
      settings,
      client: (profile, name) => createRedisClient(settings, profile, name),
      async stop() {
        await Promise.all(admins.map((a) => a.quit().catch(() => a.disconnect())));
        await cluster.stop();
        for (const n of cluster.nodes) serverPids.delete(n.pid);
      },
    };
  } catch (error) {
    for (const a of admins) a.disconnect();
    await cluster.stop();
    throw error;
  }
}

/** SIGKILL to every redis-server the bench started, for an interrupted run. */
export function killServers(): void {
  for (const pid of serverPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  serverPids.clear();
}
