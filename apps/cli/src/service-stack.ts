import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { freePort, portFree, portInUse } from './port-check';

const ROOT = resolve(__dirname, '../../..');

/** The processes of the whole service, in start order; they stop in reverse. */
export const SERVICES = ['data-abstractor', 'ai-abstractor', 'exec-agent', 'worker', 'api'] as const;

export interface StackOptions {
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
}

export interface RunningStack {
  apiUrl: string;
  redis: { host: string; port: number; private: boolean };
  /** The worker's Prometheus endpoint. */
  workerMetricsUrl: string;
  /** Resolves when a process of the stack exits on its own (the stack is then stopping). */
  exited: Promise<string>;
  stop(): Promise<void>;
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
 * else on a private `redis-server` (append-only file under ORCHESTRATOR_WORKSPACE, so runs survive a restart).
 * The ports it needs are checked first: a port another process holds stops it before anything starts, with the
 * port and the variable that changes it. It reports the API up only once the API it started says it listens and
 * answers there, so a healthy server of another process is never taken for it.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  const apiHost = env.ORCHESTRATOR_HOST || '0.0.0.0';
  const apiPort = Number(env.ORCHESTRATOR_PORT || 8080);
  if (apiPort !== 0 && !(await portFree(apiHost, apiPort))) {
    throw portInUse('the API', 'ORCHESTRATOR_PORT', apiHost, apiPort);
  }
  if (env.WORKER_METRICS_PORT && env.WORKER_METRICS_PORT !== '0') {
    const metricsPort = Number(env.WORKER_METRICS_PORT);
    if (metricsPort !== 0 && !(await portFree('0.0.0.0', metricsPort))) {
      throw portInUse("the worker's /metrics", 'WORKER_METRICS_PORT', '0.0.0.0', metricsPort);
    }
  } else {
    env.WORKER_METRICS_PORT = String(await freePort());
  }
  const host = env.REDIS_HOST || 'localhost';
  const port = Number(env.REDIS_PORT || 6379);
  const children: { name: string; child: ChildProcess }[] = [];
  let redis = { host, port, private: false };
  if (env.REDIS_URL || (await redisAnswers(host, port))) {
    options.log(`using Redis at ${env.REDIS_URL ? 'REDIS_URL' : `${host}:${port}`}`);
  } else {
    const privatePort = await freePort();
    const dir = join(env.ORCHESTRATOR_WORKSPACE || '/tmp/orchestrator', 'redis');
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      ['--port', String(privatePort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push({ name: 'redis', child });
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
    redis = { host: '127.0.0.1', port: privatePort, private: true };
    env.REDIS_HOST = redis.host;
    env.REDIS_PORT = String(redis.port);
    options.log(
      `no Redis answered at ${host}:${port}; started a private redis-server on ${redis.host}:${redis.port} (data in ${dir})`,
    );
  }

  let onExit: (name: string) => void = () => undefined;
  const exited = new Promise<string>((done) => {
    onExit = done;
  });
  let stopping = false;
  let apiErrors = '';
  /** The URL the API we started says it listens on (over the IPC channel, whatever LOG_LEVEL is). */
  let listening: (url: string) => void = () => undefined;
  const apiListening = new Promise<string>((done) => {
    listening = done;
  });
  for (const name of SERVICES) {
    const child = spawn(process.execPath, [join(ROOT, 'apps', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', ...(name === 'api' ? (['ipc'] as const) : [])],
    });
    prefixed(name, child.stdout, options.log);
    prefixed(name, child.stderr, options.log);
    if (name === 'api') {
      child.stderr?.on('data', (chunk: Buffer) => {
        apiErrors += chunk.toString();
      });
      child.on('message', (message: { type?: string; url?: string }) => {
        if (message?.type === 'listening' && typeof message.url === 'string') listening(message.url);
      });
    }
    child.once('exit', (code, signal) => {
      if (!stopping) {
        options.log(`${name} exited (${signal ?? code}); stopping the stack`);
        onExit(name);
      }
    });
    children.push({ name, child });
  }

  const apiUrl = await Promise.race([apiListening, exited.then(() => undefined), timeout(30_000)]);
  const healthy = apiUrl !== undefined && (await waitForHealth(apiUrl, exited));
  if (!apiUrl || !healthy) {
    await stopAll();
    if (apiErrors.includes('EADDRINUSE')) throw portInUse('the API', 'ORCHESTRATOR_PORT', apiHost, apiPort);
    throw new Error('the API did not become healthy; see the lines above');
  }

  async function stopAll(): Promise<void> {
    stopping = true;
    // API first (stop taking work), then the worker (finishes or hands back its jobs), the stand-ins, Redis last.
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      await new Promise<void>((done) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        child.kill('SIGTERM');
      });
    }
  }
  return {
    apiUrl,
    redis,
    workerMetricsUrl: `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`,
    exited,
    stop: stopAll,
  };
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
