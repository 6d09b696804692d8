import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, isRunning, pause, spawnNode, stopChild, waitForOwnProcess } from './cluster-node-process';
import { type ClusterNodeView, parseClusterNodes, slotMapOf, slotsCovered } from './cluster-nodes';
import { infoFields, respCommand } from './resp-command';

/** One redis-server of the cluster, as this launcher started it. `pid` changes on `restart`. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
  pid: number;
  readonly dir: string;
}

/** A primary as the cluster reports it, with the launcher's node behind it. */
export interface ClusterPrimary {
  id: string;
  host: string;
  port: number;
  /** Inclusive ranges. */
  slots: [number, number][];
  node: RedisClusterNode;
}

export interface RedisClusterOptions {
  /** Where the nodes keep their data, one directory per port (`<dir>/<port>`), and `cluster.json`. */
  dir: string;
  /** Default 3. */
  primaries?: number;
  /** Replicas per primary; default 1. */
  replicas?: number;
  /** How long a node may be unreachable before the others fail it over; default 5000 (tests use ~1000). */
  nodeTimeoutMs?: number;
  host?: string;
  /** How long start-up (processes, cluster create, agreement) may take; default 30 s. */
  startTimeoutMs?: number;
  /**
   * Start again on the ports and data `cluster.json` in `dir` records (the CLI's cluster survives a restart), or
   * create a fresh cluster when there is none. Without it `dir` must be new.
   */
  reuse?: boolean;
  /** Remove `dir` on stop (test clusters). */
  removeDirOnStop?: boolean;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** `host:port,host:port,...`: REDIS_CLUSTER_NODES. */
  readonly spec: string;
  readonly startupNodes: { host: string; port: number }[];
  /** True when this start made a new cluster (false: an existing one in `dir` came back). */
  readonly created: boolean;
  /** The nodes whose process is running (not killed, not stopped). */
  running(): RedisClusterNode[];
  /** The live primaries with their slot ranges and ids, as a reachable node of the cluster sees them. */
  primaries(): Promise<ClusterPrimary[]>;
  nodeOfSlot(slot: number): Promise<ClusterPrimary>;
  /** SIGKILL by pid; resolves once the process has exited. */
  kill(node: RedisClusterNode): Promise<void>;
  /**
   * SIGSTOP by pid: the node hangs with its sockets open (a host gone without a reset), and the cluster fails it
   * over like a dead one; waitForFailover works for it too. `stop` wakes it to end it.
   */
  freeze(node: RedisClusterNode): Promise<void>;
  /**
   * Resolves once a replica of the killed primary serves its slots and every reachable node says cluster_state:ok
   * with the same slot map; with the new primary.
   */
  waitForFailover(killed: RedisClusterNode, timeoutMs?: number): Promise<ClusterPrimary>;
  /** Starts a stopped or killed node again on its port and data (it rejoins, as a replica after a failover). */
  restart(node: RedisClusterNode): Promise<void>;
  /** SIGTERM to each node by pid, SIGKILL after `timeoutMs`; removes the data when `removeDirOnStop`. */
  stop(timeoutMs?: number): Promise<StoppedNode[]>;
}

/** How a node ended on `stop` (nodes already dead are not listed). */
export interface StoppedNode {
  port: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It ignored SIGTERM for the timeout and was killed. */
  killed: boolean;
}

interface Saved {
  ports: number[];
  primaries: number;
  replicas: number;
}

/** Starts N primaries with R replicas each from `redis-server`, joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  mkdirSync(options.dir, { recursive: true });
  const savedFile = join(options.dir, 'cluster.json');
  const saved =
    options.reuse && existsSync(savedFile) ? (JSON.parse(readFileSync(savedFile, 'utf8')) as Saved) : undefined;
  const primaries = options.primaries ?? 3;
  const replicas = options.replicas ?? 1;
  const ports = saved?.ports ?? (await freePorts(primaries * (1 + replicas)));
  const cluster = new LocalCluster(options, !saved);
  try {
    for (const port of ports) await cluster.addNode(port, deadline);
    if (!saved) {
      await createCluster(cluster.nodes, replicas, deadline);
      if (options.reuse)
        writeFileSync(savedFile, `${JSON.stringify({ ports, primaries, replicas } satisfies Saved)}\n`);
    }
    await waitUntilHealthy(cluster.nodes, deadline);
  } catch (error) {
    await cluster.stop(2000);
    throw error;
  }
  return cluster;
}

class LocalCluster implements RedisCluster {
  readonly nodes: RedisClusterNode[] = [];
  private readonly children = new Map<number, ChildProcess>();
  private readonly killed = new Map<number, { id: string; slots: [number, number][]; replicaIds: string[] }>();
  private readonly frozen = new Set<number>();
  private readonly host: string;

  constructor(
    private readonly options: RedisClusterOptions,
    readonly created: boolean,
  ) {
    this.host = options.host ?? '127.0.0.1';
  }

  get spec(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  async addNode(port: number, deadline: number): Promise<void> {
    const dir = join(this.options.dir, String(port));
    mkdirSync(dir, { recursive: true });
    const node = { host: this.host, port, dir, pid: 0 };
    this.nodes.push(node);
    node.pid = await this.launch(node, deadline);
  }

  private async launch(node: RedisClusterNode, deadline: number): Promise<number> {
    const child = spawnNode(node.host, node.port, node.dir, this.options.nodeTimeoutMs ?? 5000);
    this.children.set(node.port, child);
    await waitForOwnProcess(node.host, node.port, child, node.dir, deadline);
    return child.pid as number;
  }

  running(): RedisClusterNode[] {
    return this.nodes.filter((n) => isRunning(this.children.get(n.port)));
  }

  /** Running and not frozen: the nodes that answer. */
  private answering(): RedisClusterNode[] {
    return this.running().filter((n) => !this.frozen.has(n.port));
  }

  private async view(): Promise<ClusterNodeView[]> {
    let lastError: unknown;
    for (const node of this.answering()) {
      try {
        return parseClusterNodes(String(await respCommand(node.host, node.port, ['CLUSTER', 'NODES'])));
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no node of the cluster answers: ${String(lastError)}`);
  }

  private toPrimary(view: ClusterNodeView): ClusterPrimary {
    const node = this.nodes.find((n) => n.port === view.port) as RedisClusterNode;
    return { id: view.id, host: view.host, port: view.port, slots: view.slots, node };
  }

  async primaries(): Promise<ClusterPrimary[]> {
    const view = await this.view();
    return view.filter((n) => n.role === 'primary' && !n.failing && n.slots.length > 0).map((n) => this.toPrimary(n));
  }

  async nodeOfSlot(slot: number): Promise<ClusterPrimary> {
    const owner = (await this.primaries()).find((p) => p.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no live primary serves slot ${slot}`);
    return owner;
  }

  async kill(node: RedisClusterNode): Promise<void> {
    await this.remember(node);
    const child = this.children.get(node.port);
    if (child) await stopChild(child, 0);
  }

  async freeze(node: RedisClusterNode): Promise<void> {
    await this.remember(node);
    this.children.get(node.port)?.kill('SIGSTOP');
    this.frozen.add(node.port);
  }

  /** What `node` serves and who replicates it, for waitForFailover to know the heir when it sees one. */
  private async remember(node: RedisClusterNode): Promise<void> {
    const view = await this.view();
    const self = view.find((n) => n.port === node.port) as ClusterNodeView;
    const replicaIds = view.filter((n) => n.primaryId === self.id).map((n) => n.id);
    this.killed.set(node.port, { id: self.id, slots: self.slots, replicaIds });
  }

  async waitForFailover(killed: RedisClusterNode, timeoutMs = 30_000): Promise<ClusterPrimary> {
    const before = this.killed.get(killed.port);
    if (!before) throw new Error(`node ${killed.port} was not killed through this handle`);
    const up = new Set(this.answering().map((n) => n.port));
    const down = new Set(this.nodes.filter((n) => !up.has(n.port)).map((n) => n.port));
    const end = Date.now() + timeoutMs;
    for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
      const view = await this.view().catch(() => []);
      const heir = view.find(
        (n) =>
          n.role === 'primary' &&
          !n.failing &&
          (before.slots.length === 0 || before.replicaIds.includes(n.id)) &&
          before.slots.every(([from, to]) => n.slots.some(([f, t]) => f <= from && t >= to)),
      );
      const reachable = this.nodes.filter((n) => !down.has(n.port));
      const why = heir
        ? await disagreement(reachable, down).catch((error: Error) => error.message)
        : 'no replica serves its slots';
      if (heir && why === undefined) return this.toPrimary(heir);
      if (Date.now() > end) {
        throw new Error(`no replica took over the slots of ${killed.port} in ${timeoutMs} ms (last seen: ${why})`);
      }
      await pause(wait); // polling backoff: the cluster announces the promotion to nobody outside it
    }
  }

  async restart(node: RedisClusterNode): Promise<void> {
    if (isRunning(this.children.get(node.port))) throw new Error(`node ${node.port} is running`);
    node.pid = await this.launch(node, Date.now() + (this.options.startTimeoutMs ?? 30_000));
  }

  async stop(timeoutMs = 10_000): Promise<StoppedNode[]> {
    const running = [...this.children].filter(([, child]) => isRunning(child));
    for (const port of this.frozen) this.children.get(port)?.kill('SIGCONT'); // a stopped process takes no SIGTERM
    this.frozen.clear();
    const stopped = await Promise.all(
      running.map(async ([port, child]) => {
        const killed = await stopChild(child, timeoutMs);
        return { port, pid: child.pid as number, code: child.exitCode, signal: child.signalCode, killed };
      }),
    );
    this.children.clear();
    if (this.options.removeDirOnStop) rmSync(this.options.dir, { recursive: true, force: true });
    return stopped;
  }
}

function createCluster(nodes: RedisClusterNode[], replicas: number, deadline: number): Promise<void> {
  const args = ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`)];
  args.push('--cluster-replicas', String(replicas), '--cluster-yes');
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: Math.max(1000, deadline - Date.now()) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli --cluster create failed: ${error.message} ${stdout} ${stderr}`.trim()));
      else resolve();
    });
  });
}

/** Every node: cluster_state:ok, all nodes known, the same full slot map, and replicas linked to their primary. */
/** Whether every node is ok, sees exactly `down` failing, covers every slot and shares one slot map. */
async function clusterAgrees(nodes: RedisClusterNode[], down: Set<number>): Promise<boolean> {
  return (await disagreement(nodes, down)) === undefined;
}

/** The first way in which the nodes do not agree (for a timeout's message), or undefined. */
async function disagreement(nodes: RedisClusterNode[], down: Set<number>): Promise<string | undefined> {
  const maps = new Set<string>();
  for (const node of nodes) {
    const info = infoFields(await respCommand(node.host, node.port, ['CLUSTER', 'INFO']));
    if (info.get('cluster_state') !== 'ok') return `${node.port}: cluster_state ${info.get('cluster_state')}`;
    const view = parseClusterNodes(String(await respCommand(node.host, node.port, ['CLUSTER', 'NODES'])));
    const wrong = view.find((n) => n.failing !== down.has(n.port));
    if (wrong) return `${node.port} sees ${wrong.port} ${wrong.failing ? 'failing' : 'up'}`;
    if (slotsCovered(view) !== 16384) return `${node.port} sees ${slotsCovered(view)} slots served`;
    maps.add(slotMapOf(view));
    const self = view.find((n) => n.myself);
    if (self?.role === 'replica') {
      const replication = infoFields(await respCommand(node.host, node.port, ['INFO', 'replication']));
      const link = replication.get('master_link_status');
      if (link !== 'up') return `${node.port}: replica link ${link}`;
    }
  }
  return maps.size === 1 ? undefined : `${maps.size} different slot maps`;
}

async function waitUntilHealthy(nodes: RedisClusterNode[], deadline: number): Promise<void> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    if (await clusterAgrees(nodes, new Set()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok with one slot map in time');
    await pause(wait); // the cluster's own convergence, which no event announces
  }
}
