import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from '@orch/testing';
import { DOCKER_DIR } from './test-deploy-config';

jest.setTimeout(120_000);

/**
 * The scripts the cluster variants run, against six real redis-servers started here (cluster mode, the variants'
 * own cluster-node.conf, a password): docker/redis/cluster-init.sh forms the cluster and leaves a formed one
 * alone, and the Kubernetes pods' redis-start.sh brings a cluster back whose nodes all restarted with the peers'
 * recorded addresses gone stale (pods get new IPs when re-created).
 */
const INIT = join(DOCKER_DIR, 'redis', 'cluster-init.sh');
const CONF = join(DOCKER_DIR, 'redis', 'cluster-node.conf');
const START = join(DOCKER_DIR, 'k8s', 'cluster', 'self-hosted', 'redis-start.sh');
const PASSWORD = 'cluster-test-password';
// An address nothing answers on (TEST-NET-1), for the stale entries.
const STALE = '192.0.2.7';

interface Node {
  port: number;
  busPort: number;
  dir: string;
  child?: ChildProcess;
}

let root: string;
const nodes: Node[] = [];
const list = () => nodes.map((n) => `127.0.0.1:${n.port}`).join(',');

function cli(node: Node, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(node.port), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', REDISCLI_AUTH: PASSWORD },
  });
  return result.stdout.replace(/\r/g, '');
}
const info = (node: Node, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(cli(node, 'cluster', 'info'))?.[1];
/** CLUSTER NODES as `id address flags` lines, sorted. */
const clusterNodes = (node: Node) =>
  cli(node, 'cluster', 'nodes')
    .trim()
    .split('\n')
    .map((line) => line.split(' ').slice(0, 3))
    .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));

/** Starts a node through `sh script` (redis-start.sh) or redis-server itself, and waits until it accepts. */
function startNode(node: Node, through?: string): Promise<void> {
  const args = [
    CONF,
    ...['--port', String(node.port), '--cluster-port', String(node.busPort), '--bind', '127.0.0.1'],
    ...['--cluster-announce-hostname', '127.0.0.1', '--requirepass', PASSWORD, '--masterauth', PASSWORD],
    ...['--dir', node.dir, '--daemonize', 'no', '--logfile', ''],
  ];
  const child = through
    ? spawn('sh', [through, ...args], { cwd: node.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('redis-server', args, { cwd: node.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  node.child = child;
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => reject(new Error(`redis-server on ${node.port} exited with ${code}: ${output}`)));
  });
}

function stopNode(node: Node): Promise<void> {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM'); // Redis saves nodes.conf and the AOF on its way out
  });
}

function runInit(nodeList: string) {
  return spawnSync('sh', [INIT], {
    encoding: 'utf8',
    timeout: 90_000,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_CLUSTER_NODES: nodeList,
      REDISCLI_AUTH: PASSWORD,
      CLUSTER_INIT_TIMEOUT: '60',
    },
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'orch-cluster-'));
  const used = new Set<number>();
  const port = async () => {
    let p = await freePort();
    while (used.has(p)) p = await freePort();
    used.add(p);
    return p;
  };
  for (let i = 0; i < 6; i++) {
    const dir = join(root, `node-${i}`);
    mkdirSync(dir);
    nodes.push({ port: await port(), busPort: await port(), dir });
  }
  await Promise.all(nodes.map((n) => startNode(n)));
});

afterAll(async () => {
  await Promise.all(nodes.map(stopNode));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('cluster-init.sh and redis-start.sh', () => {
  it('refuses a node list that is not 3 primaries and 3 replicas', () => {
    const result = runInit(
      nodes
        .slice(0, 3)
        .map((n) => `127.0.0.1:${n.port}`)
        .join(','),
    );
    expect([result.status, result.stderr]).toEqual([2, expect.stringContaining('names 3 nodes')]);
    expect(info(nodes[0] as Node, 'cluster_known_nodes')).toBe('1');
  });

  it('forms the cluster from six blank nodes: 3 primaries with a replica each, all slots, every node ok', () => {
    const result = runInit(list());
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toContain('forming the cluster');
    for (const node of nodes) {
      expect([node.port, info(node, 'cluster_state'), info(node, 'cluster_slots_assigned')]).toEqual([
        node.port,
        'ok',
        '16384',
      ]);
      expect(info(node, 'cluster_known_nodes')).toBe('6');
    }
    // Each node's own word on its role: three primaries with one connected replica each, three replicas.
    const roles = nodes.map((n) => {
      const replication = cli(n, 'info', 'replication');
      return `${/^role:(\w+)/m.exec(replication)?.[1]}:${/^connected_slaves:(\d+)/m.exec(replication)?.[1]}`;
    });
    expect(roles.sort()).toEqual(['master:1', 'master:1', 'master:1', 'slave:0', 'slave:0', 'slave:0']);
    // Clients are handed the announced name (here 127.0.0.1 stands in for redis-node-<n> or the pod's DNS name).
    expect(cli(nodes[0] as Node, 'cluster', 'slots')).toContain('127.0.0.1');
  });

  it('leaves a formed cluster alone when run again', () => {
    // Each node's own id, role and slots (its peers' views may still be converging by gossip).
    const own = () =>
      nodes.map((n) => {
        const line = cli(n, 'cluster', 'nodes')
          .split('\n')
          .find((l) => l.includes('myself')) as string;
        const [id, , flags, , , , , , ...slots] = line.trim().split(' ');
        return [id, (flags as string).replace('myself,', ''), slots.join(' ')];
      });
    const before = own();
    const result = runInit(list());
    expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('already formed; nothing to do')]);
    expect(own()).toEqual(before);
  });

  it('brings the cluster back when all nodes restart with every recorded peer address stale', async () => {
    await Promise.all(nodes.map(stopNode));
    for (const node of nodes) {
      const file = join(node.dir, 'nodes.conf');
      const stale = readFileSync(file, 'utf8').replace(/^([0-9a-f]{40}) 127\.0\.0\.1:/gm, `$1 ${STALE}:`);
      expect(stale.split(STALE).length - 1).toBe(6);
      writeFileSync(file, stale);
    }
    await Promise.all(nodes.map((n) => startNode(n, START)));
    // The script rewrote every peer's address from its hostname before Redis read the file.
    for (const node of nodes) {
      const peers = clusterNodes(node).filter(([, , flags]) => !(flags as string).includes('myself'));
      expect(peers.map(([, address]) => (address as string).split(':')[0])).toEqual(Array(5).fill('127.0.0.1'));
    }
    await waitUntil(
      async () => nodes.every((n) => info(n, 'cluster_state') === 'ok' && !cli(n, 'cluster', 'nodes').includes('fail')),
      30_000,
      'every node reports cluster_state:ok with no failed peer',
    );
    const result = runInit(list());
    expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('already formed')]);
  });
});
