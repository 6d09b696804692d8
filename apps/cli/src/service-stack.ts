import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { RedisCluster } from '@orch/process';
import { freePort, portFree, portInUse } from './port-check';
import { type ClusterChoice, chooseRedis, type StackRedisInfo } from './stack-redis';

const ROOT = resolve(__dirname, '../../..');

/** The processes of the whole service, in start order; they stop in reverse. */
export const SERVICES = ['data-abstractor', 'ai-abstractor', 'exec-agent', 'worker', 'api'] as const;

export interface StackOptions {
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  /** `up --cluster`: run on a private local Redis Cluster of this shape instead. */
  cluster?: ClusterChoice;
}

export interface RunningStack {
  apiUrl: string;
  redis: StackRedisInfo;
  /** The worker's Prometheus endpoint. */
  workerMetricsUrl: string;
  /** Resolves when a process of the stack exits on its own (the stack is then stopping). */
  exited: Promise<string>;
  /** The running processes of the stack (a private redis-server or cluster included), for health and memory checks. */
  processes(): { name: string; pid: number }[];
  /** SIGTERM to each process, in reverse start order; SIGKILL after STOP_TIMEOUT_MS. Says how each one ended. */
  stop(): Promise<StoppedProcess[]>;
}

export interface StoppedProcess {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** It ignored SIGTERM for STOP_TIMEOUT_MS and was killed. */
  killed: boolean;
}

/** How long a process may take to stop before it is killed; each stops in well under it, Redis down or not. */
export const STOP_TIMEOUT_MS = 30_000;

function prefixed(name: string, stream: NodeJS.ReadableStream | null, log: (line: string) => void): void {
  let buffer = '';
  stream?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) log(`[${name}] ${line}`);
  });
}

/**
 * Brings up the API, one worker and the three service stand-ins, on the configured Redis when one answers there,
 * else on a private `redis-server` (append-only file under ORCHESTRATOR_WORKSPACE, so runs survive a restart); with
 * `cluster`, on a private local Redis Cluster (REDIS_CLUSTER_NODES and ORCHESTRATOR_PARTITIONS, default 16, are
 * passed to every process; the cluster stops last, by pid).
 * Without SERVICE_SECRET in the environment it makes one for the stack's processes. The ports it needs are checked
 * first: a port another process holds stops it before anything starts, with the port and the variable that changes
 * it. It reports the API up only once the API it started says where it listens and answers there, so a healthy
 * server of another process is never taken for it.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  const ports = await checkPorts(env);
  const children: { name: string; child: ChildProcess }[] = [];
  if (!env.SERVICE_SECRET) {
    // The workers and the services sign their messages with it; a fresh one per stack, known to its processes only.
    env.SERVICE_SECRET = randomBytes(32).toString('hex');
    options.log('generated a SERVICE_SECRET for the processes of this stack');
  }
  const { redis, cluster } = await chooseRedis(env, options.log, children, options.cluster);

  let onExit: (name: string) => void = () => undefined;
  const exited = new Promise<string>((done) => {
    onExit = done;
  });
  let stopping = false;
  let api: ReturnType<typeof watchApi> | undefined;
  for (const name of SERVICES) {
    const child = spawn(process.execPath, [join(ROOT, 'apps', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', ...(name === 'api' ? (['ipc'] as const) : [])],
    });
    prefixed(name, child.stdout, options.log);
    prefixed(name, child.stderr, options.log);
    if (name === 'api') api = watchApi(child);
    child.once('exit', (code, signal) => {
      if (!stopping) {
        options.log(`${name} exited (${signal ?? code}); stopping the stack`);
        onExit(name);
      }
    });
    children.push({ name, child });
  }

  const apiUrl = await Promise.race([api?.listening, exited.then(() => undefined), timeout(30_000)]);
  const healthy = apiUrl !== undefined && (await waitForHealth(apiUrl, exited));
  if (!apiUrl || !healthy) {
    await stopAll();
    if (api?.errors().includes('EADDRINUSE')) {
      throw portInUse('the API', 'ORCHESTRATOR_PORT', ports.apiHost, ports.apiPort);
    }
    throw new Error('the API did not become healthy; see the lines above');
  }

  async function stopAll(): Promise<StoppedProcess[]> {
    stopping = true;
    const stopped: StoppedProcess[] = [];
    // API first (stop taking work), then the worker (finishes or hands back its jobs), the stand-ins, Redis last.
    for (const { name, child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const started = Date.now();
      let killed = false;
      await new Promise<void>((done) => {
        const force = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, STOP_TIMEOUT_MS);
        child.once('exit', (code, signal) => {
          clearTimeout(force);
          const ms = Date.now() - started;
          stopped.push({ name, code, signal, ms, killed });
          options.log(`${name} ${killed ? 'killed after' : 'stopped in'} ${ms} ms (${signal ?? `exit ${code}`})`);
          done();
        });
        child.kill('SIGTERM');
      });
    }
    if (cluster) stopped.push(...(await stopCluster(cluster, options.log)));
    return stopped;
  }
  const processes = () =>
    children
      .filter(({ child }) => child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      .map(({ name, child }) => ({ name, pid: child.pid as number }))
      .concat((cluster?.running() ?? []).map((node) => ({ name: `redis-${node.port}`, pid: node.pid })));
  const workerMetricsUrl = `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`;
  return { apiUrl, redis, workerMetricsUrl, exited, processes, stop: stopAll };
}

/** The stack's private cluster, last: SIGTERM to each node by pid, SIGKILL after STOP_TIMEOUT_MS. */
async function stopCluster(cluster: RedisCluster, log: (line: string) => void): Promise<StoppedProcess[]> {
  const started = Date.now();
  const stopped = (await cluster.stop(STOP_TIMEOUT_MS)).map(({ port, code, signal, killed }) => ({
    name: `redis-${port}`,
    code,
    signal,
    killed,
    ms: Date.now() - started,
  }));
  log(`redis cluster stopped in ${Date.now() - started} ms`);
  return stopped;
}

/**
 * The API's port and the worker's metrics port must be free (0 lets the API pick one). Without WORKER_METRICS_PORT
 * (or with 0) the worker gets a free port, so `up` can print its /metrics URL.
 */
async function checkPorts(env: Record<string, string>): Promise<{ apiHost: string; apiPort: number }> {
  const apiHost = env.ORCHESTRATOR_HOST || '0.0.0.0';
  const apiPort = Number(env.ORCHESTRATOR_PORT || 8080);
  if (apiPort !== 0 && !(await portFree(apiHost, apiPort))) {
    throw portInUse('the API', 'ORCHESTRATOR_PORT', apiHost, apiPort);
  }
  const metricsPort = Number(env.WORKER_METRICS_PORT || 0);
  if (metricsPort === 0) env.WORKER_METRICS_PORT = String(await freePort());
  else if (!(await portFree('0.0.0.0', metricsPort))) {
    throw portInUse("the worker's /metrics", 'WORKER_METRICS_PORT', '0.0.0.0', metricsPort);
  }
  return { apiHost, apiPort };
}

/** The URL the API process says it listens on (over its IPC channel, whatever LOG_LEVEL is), and its stderr. */
function watchApi(child: ChildProcess): { listening: Promise<string>; errors: () => string } {
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const listening = new Promise<string>((done) => {
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message?.type === 'listening' && typeof message.url === 'string') done(message.url);
    });
  });
  return { listening, errors: () => errors };
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((done) => setTimeout(() => done(undefined), ms).unref());
}

async function waitForHealth(url: string, exited: Promise<string>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let gaveUp = false;
  void exited.then(() => {
    gaveUp = true;
  });
  while (!gaveUp && Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200)); // start-up poll of a process we just spawned
  }
  return false;
}
