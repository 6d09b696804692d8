import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './processes';

/** The part of `RedisCluster` (@orch/testing) the bench uses. */
export interface BenchCluster {
  nodes: readonly { host: string; port: number; pid: number }[];
  startupNodes: { host: string; port: number }[];
  primaries(): Promise<{ port: number; slots: [number, number][]; node: { pid: number } }[]>;
  stop(): Promise<unknown>;
}

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * A Redis Cluster of one primary holding all 16384 slots. `redis-cli --cluster create` wants at least 3 primaries
 * (and so does the launcher in @orch/process), so the slots are assigned by hand: CLUSTER ADDSLOTSRANGE.
 */
export async function startSingleNodeCluster(): Promise<BenchCluster> {
  let port = 0;
  for (let tries = 0; port === 0; tries++) {
    if (tries > 200) throw new Error('found no free port (and cluster bus port) for a one-node cluster');
    const p = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await canBind(p)) && (await canBind(p + 10_000))) port = p;
  }
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-cluster1-'));
  // biome-ignore format: one flag and its value per pair
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000',
    // A lone node has met no peer to learn its address from: CLUSTER SLOTS would name it "".
    '--cluster-announce-ip', '127.0.0.1',
    '--appendonly', 'no', '--save', '', '--daemonize', 'no', '--logfile', join(dir, 'redis.log'),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start redis-server');
  const admin = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  admin.on('error', () => undefined); // refused until the server listens; waitFor below retries
  const stop = async () => {
    admin.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
        const info = await admin.info('server').catch(() => '');
        // Ours, not some other server that took the port meanwhile.
        return info.includes(`process_id:${pid}\r\n`);
      },
      10_000,
      () => `redis-server on ${port} to answer`,
    );
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor(
      async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
      10_000,
      () => `the one-node cluster on ${port} to say cluster_state:ok`,
    );
    admin.disconnect();
  } catch (error) {
    await stop();
    throw error;
  }
  const host = '127.0.0.1';
  return {
    nodes: [{ host, port, pid }],
    startupNodes: [{ host, port }],
    primaries: async () => [{ port, slots: [[0, 16383]], node: { pid } }],
    stop,
  };
}
