import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { type RedisCluster, startRedisCluster } from '@orch/process';
import { freePort } from './port-check';

/** The Redis a stack runs on. */
export interface StackRedisInfo {
  host: string;
  port: number;
  /** Started by this stack (a redis-server or a cluster), stopped with it. */
  private: boolean;
  /** On a Redis Cluster: REDIS_CLUSTER_NODES as the services got it, and its shape when it is the stack's own. */
  cluster?: { spec: string; primaries?: number; replicas?: number };
}

/** `up --cluster`: a private local cluster of `primaries` primaries with `replicas` replicas each. */
export interface ClusterChoice {
  primaries: number;
  replicas: number;
}

/** True when something at host:port answers the Redis protocol (any reply, even NOAUTH, counts). */
export function redisAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(/^[+-]/.test(data.toString())));
  });
}

/**
 * With `cluster`, a private local Redis Cluster (data under ORCHESTRATOR_WORKSPACE/redis-cluster, its ports kept in
 * cluster.json so its data comes back on the next `up --cluster`); else the configured Redis or cluster when it
 * answers (or TLS is configured), else a private redis-server, which `children` then holds. `env` is pointed at
 * what was chosen.
 */
export async function chooseRedis(
  env: Record<string, string>,
  log: (line: string) => void,
  children: { name: string; child: ChildProcess }[],
  cluster?: ClusterChoice,
): Promise<{ redis: StackRedisInfo; cluster?: RedisCluster }> {
  if (cluster) return startStackCluster(env, log, cluster);
  if (env.REDIS_CLUSTER_NODES) {
    log('using the Redis Cluster at REDIS_CLUSTER_NODES');
    const [host = '', port = '0'] = (env.REDIS_CLUSTER_NODES.split(',')[0] ?? '').trim().split(/:(?=\d+$)/);
    return { redis: { host, port: Number(port), private: false, cluster: { spec: env.REDIS_CLUSTER_NODES } } };
  }
  const host = env.REDIS_HOST || 'localhost';
  const port = Number(env.REDIS_PORT || 6379);
  // A TLS port does not answer a plain-text PING: configured TLS means "use it".
  if (env.REDIS_URL || env.REDIS_TLS === 'true' || (await redisAnswers(host, port))) {
    log(`using Redis at ${env.REDIS_URL ? 'REDIS_URL' : `${host}:${port}`}`);
    return { redis: { host, port, private: false } };
  }
  const privatePort = await freePort();
  const dir = join(env.ORCHESTRATOR_WORKSPACE || '/tmp/orchestrator', 'redis');
  mkdirSync(dir, { recursive: true });
  children.push({ name: 'redis', child: await startPrivateRedis(privatePort, dir) });
  env.REDIS_HOST = '127.0.0.1';
  env.REDIS_PORT = String(privatePort);
  log(
    `no Redis answered at ${host}:${port}; started a private redis-server on 127.0.0.1:${privatePort} (data in ${dir})`,
  );
  return { redis: { host: '127.0.0.1', port: privatePort, private: true } };
}

async function startStackCluster(
  env: Record<string, string>,
  log: (line: string) => void,
  choice: ClusterChoice,
): Promise<{ redis: StackRedisInfo; cluster: RedisCluster }> {
  const dir = join(env.ORCHESTRATOR_WORKSPACE || '/tmp/orchestrator', 'redis-cluster');
  const cluster = await startRedisCluster({ dir, reuse: true, ...choice });
  const first = cluster.nodes[0] as { host: string; port: number };
  // A cluster has only database 0 and is reached through its nodes: a REDIS_URL or database of the environment
  // would contradict REDIS_CLUSTER_NODES (loadConfig refuses both).
  for (const name of ['REDIS_URL', 'REDIS_DATABASE']) {
    if (env[name]) log(`ignoring ${name} for the private cluster`);
    delete env[name];
  }
  env.REDIS_CLUSTER_NODES = cluster.spec;
  env.ORCHESTRATOR_PARTITIONS ||= '16';
  // Host and port too, at a node of the cluster: a process that does not read REDIS_CLUSTER_NODES yet then talks
  // to the stack's cluster (and fails visibly), never to some other Redis on the default port.
  env.REDIS_HOST = first.host;
  env.REDIS_PORT = String(first.port);
  // The shape it has: a cluster that came back from its data keeps the one it was created with.
  const primaries = (await cluster.primaries()).length;
  const shape = { primaries, replicas: (cluster.nodes.length - primaries) / primaries };
  const says = `${shape.primaries} primaries + ${cluster.nodes.length - primaries} replicas`;
  log(
    `${cluster.created ? 'started a private Redis Cluster' : 'restarted the private Redis Cluster'} (${says}) on ${cluster.spec} (data in ${dir}); ${env.ORCHESTRATOR_PARTITIONS} partitions`,
  );
  return { redis: { ...first, private: true, cluster: { spec: cluster.spec, ...shape } }, cluster };
}

/** A redis-server on `port` with its append-only file in `dir`, once it accepts connections. */
async function startPrivateRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.once('error', (e) =>
      fail(new Error(`cannot start redis-server (${e.message}); install it: apt-get install -y redis-server`)),
    );
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) ready();
    });
  });
  return child;
}
