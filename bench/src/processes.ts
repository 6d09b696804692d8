import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisSettings } from '@orch/redis';
import { freePort } from '@orch/testing';
import type { Redis } from 'ioredis';

/** The workspace root: bench/dist/processes.js -> ../.. */
export const ROOT = join(__dirname, '..', '..');
export const WORKER_MAIN = join(ROOT, 'apps', 'worker', 'dist', 'main.js');
export const API_MAIN = join(ROOT, 'apps', 'api', 'dist', 'main.js');
export const RAW_WORKER_MAIN = join(__dirname, 'raw-worker.js');

/** The BullMQ/engine key prefix of every orchestrator process the bench starts. */
export const PREFIX = 'orch';

/** A process the bench started; `stop()` ends exactly this pid. */
export interface BenchChild {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last few KB of its stderr, for error messages. */
  output(): string;
  /** Resident set size now, from /proc/<pid>/status (kB), or undefined once it has exited. */
  rssKb(): number | undefined;
  stop(): Promise<void>;
}

const live = new Set<BenchChild>();

/** Kills whatever the bench started and is still running; for the runner's exit and signal paths. */
export function killAll(): void {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function readRssKb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function launch(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { ipc?: boolean; nodeArgs?: string } = {},
): BenchChild {
  const ipc = options.ipc ?? false;
  const proc = spawn(process.execPath, [...(options.nodeArgs?.split(' ').filter(Boolean) ?? []), script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ipc ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  let tail = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  const child: BenchChild = {
    name,
    proc,
    pid: proc.pid,
    output: () => tail,
    rssKb: () => readRssKb(proc.pid as number),
    stop() {
      live.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        // SIGTERM first: the worker closes gracefully, which is what writes a --cpu-prof profile.
        const hard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    },
  };
  live.add(child);
  return child;
}

/** The env that points a process at `settings`: a standalone host and port, or a cluster's startup nodes. */
function redisEnv(settings: RedisSettings): Record<string, string> {
  if (settings.clusterNodes?.length) {
    const nodes = settings.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',');
    return { REDIS_CLUSTER_NODES: nodes, QUEUE_PREFIX: PREFIX };
  }
  return { REDIS_HOST: settings.host, REDIS_PORT: String(settings.port), QUEUE_PREFIX: PREFIX };
}

/**
 * Environment every orchestrator worker of this bench run gets on top of its own (`--no-inline` sets
 * WORKER_INLINE_CONTINUATION=false here, for a before/after of inline continuation on the same build).
 */
export const workerEnvOverrides: Record<string, string> = {};

export interface OrchWorkerOptions {
  concurrency: number;
  maxConcurrentWorkflows?: number;
  executionTtl?: string;
  /** Extra node arguments, e.g. `--cpu-prof --cpu-prof-dir=/tmp/x`. */
  nodeArgs?: string;
  /** More environment (WORKER_LOCK_DURATION, OPENAI_BASE_URL, ...); `namePrefix` names the workers. */
  env?: Record<string, string>;
  namePrefix?: string;
  /**
   * Whether the started workers (by WORKER_NAME) are ready. Default: the abort subscription and the task Worker's
   * client seen on `admin`'s server, which only a standalone Redis shows for every worker (on a cluster each client
   * sits on some node, under a partition-tagged name).
   */
  ready?: (workerNames: string[]) => Promise<boolean>;
}

/**
 * Starts `node apps/worker/dist/main.js` processes and resolves once every one of them has subscribed to the abort
 * channel and registered its task Worker (LOG_LEVEL=warn hides the "worker ready" line, so readiness is read from
 * Redis: PUBSUB NUMSUB and CLIENT LIST).
 */
export async function startOrchWorkers(
  settings: RedisSettings,
  admin: Redis,
  count: number,
  options: OrchWorkerOptions,
): Promise<BenchChild[]> {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run tsc -b first`);
  const env: Record<string, string> = {
    ...redisEnv(settings),
    WORKER_CONCURRENCY: String(options.concurrency),
    RECOVERY_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    MAX_CONCURRENT_WORKFLOWS: String(options.maxConcurrentWorkflows ?? 1_000_000),
    EXECUTION_TTL: options.executionTtl ?? '1h',
    ...options.env,
    ...workerEnvOverrides,
  };
  const { ready } = options;
  const before = ready ? 0 : await taskWorkerClients(admin);
  const names = Array.from({ length: count }, (_, i) => `bench-${options.namePrefix ?? 'worker'}-${i + 1}`);
  const children = names.map((workerName, i) =>
    launch(
      `${options.namePrefix ?? 'worker'}-${i + 1}`,
      WORKER_MAIN,
      { ...env, WORKER_NAME: workerName },
      { nodeArgs: options.nodeArgs },
    ),
  );
  await waitFor(
    async () => {
      for (const c of children) {
        if (c.proc.exitCode !== null) throw new Error(`${c.name} exited with ${c.proc.exitCode}: ${c.output()}`);
      }
      if (ready) return ready(names);
      const [, subscribers] = (await admin.pubsub('NUMSUB', `${PREFIX}:abort`)) as [string, number];
      return subscribers >= count && (await taskWorkerClients(admin)) >= before + count;
    },
    20_000,
    () => `worker processes to start: ${children.map((c) => c.output()).join('\n')}`,
  );
  return children;
}

/** BullMQ names a Worker's blocking connection `<prefix>:<base64 queue name>:w:<worker name>`. */
async function taskWorkerClients(admin: Redis): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const name = `${PREFIX}:${Buffer.from('tasks').toString('base64')}`;
  return list.split('\n').filter((line) => line.includes(` name=${name}`)).length;
}

export interface RawWorker extends BenchChild {
  /** Arms the worker to report when `n` more jobs have completed; `done` resolves with that moment (epoch ms). */
  expect(n: number): Promise<{ done: Promise<number> }>;
}

export async function startRawWorker(
  settings: RedisSettings,
  queueName: string,
  concurrency: number,
  nodeArgs?: string,
): Promise<RawWorker> {
  const env: Record<string, string> = {
    REDIS_HOST: settings.host,
    REDIS_PORT: String(settings.port),
    QUEUE_PREFIX: 'raw',
    QUEUE_NAME: queueName,
    WORKER_CONCURRENCY: String(concurrency),
  };
  const child = launch('raw-worker', RAW_WORKER_MAIN, env, { ipc: true, nodeArgs });
  const next = (type: string) =>
    new Promise<{ type: string; at?: number }>((resolve, reject) => {
      const onMessage = (message: { type: string; at?: number }) => {
        if (message.type !== type) return;
        child.proc.off('message', onMessage);
        child.proc.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`raw worker exited with ${code}: ${child.output()}`));
      child.proc.on('message', onMessage);
      child.proc.once('exit', onExit);
    });
  await withTimeout(next('ready'), 20_000, 'the raw worker to start');
  return Object.assign(child, {
    async expect(n: number) {
      const done = next('done');
      const armed = next('armed');
      child.proc.send({ type: 'expect', n });
      await armed;
      return { done: done.then((m) => m.at as number) };
    },
  });
}

export interface ApiProcess extends BenchChild {
  baseUrl: string;
}

/** Starts the HTTP API if it is built; undefined when `apps/api/dist/main.js` does not exist (yet). */
export async function startApi(
  settings: RedisSettings,
  options: {
    templatesDir: string;
    maxConcurrentWorkflows: number;
    executionTtl?: string;
    nodeArgs?: string;
    /** More settings (ORCHESTRATOR_BACKLOG_HIGH_WATER, OTEL_EXPORTER_OTLP_ENDPOINT, say). */
    env?: Record<string, string>;
  },
): Promise<ApiProcess | undefined> {
  if (!existsSync(API_MAIN)) return undefined;
  const port = await freePort();
  const child = launch(
    'api',
    API_MAIN,
    {
      ...redisEnv(settings),
      ORCHESTRATOR_HOST: '127.0.0.1',
      ORCHESTRATOR_PORT: String(port),
      ORCHESTRATOR_TEMPLATES: options.templatesDir,
      MAX_CONCURRENT_WORKFLOWS: String(options.maxConcurrentWorkflows),
      EXECUTION_TTL: options.executionTtl ?? '1h',
      RECOVERY_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    { nodeArgs: options.nodeArgs },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null)
        throw new Error(`the API exited with ${child.proc.exitCode}: ${child.output()}`);
      try {
        return (await fetch(`${baseUrl}/health`)).status === 200;
      } catch {
        return false;
      }
    },
    30_000,
    () => `the API to answer /health: ${child.output()}`,
  );
  return Object.assign(child, { baseUrl });
}

export async function waitFor(check: () => Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
