import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private redis-server for one test file: its own port and directory, never a Redis the tests did not start. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the server; with `keepDir` its AOF/RDB files stay for a restart. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
  /** Stops and starts it again on the same port and directory (with the same persistence settings). */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  appendonly?: boolean;
  /** Seconds; also what `redis-server` is told to bind for. */
  startTimeoutMs?: number;
  /** An ACL file (`user ... on >password ~keys &channels +commands` lines), loaded with --aclfile. */
  aclFile?: string;
  /** Serve TLS only (`--port 0 --tls-port`), with these PEM files; clients must present a certificate unless told. */
  tls?: { cert: string; key: string; ca: string; authClients?: 'yes' | 'no' | 'optional' };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-redis-'));
  const host = '127.0.0.1';
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const launch = () => launchRedis(port, dir, options);
    try {
      let child = await launch();
      const server: RedisServer = {
        host,
        port,
        dir,
        url: `${options.tls ? 'rediss' : 'redis'}://${host}:${port}`,
        async stop({ keepDir = false } = {}) {
          await stopChild(child);
          if (!keepDir) rmSync(dir, { recursive: true, force: true });
        },
        async restart() {
          await stopChild(child);
          child = await launch();
        },
      };
      return server;
    } catch (error) {
      lastError = error; // most likely the port was taken between probe and bind: try another
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start redis-server: ${String(lastError)}`);
}

function launchRedis(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const listen = options.tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        options.tls.cert,
        '--tls-key-file',
        options.tls.key,
        '--tls-ca-cert-file',
        options.tls.ca,
        '--tls-auth-clients',
        options.tls.authClients ?? 'yes',
      ]
    : ['--port', String(port)];
  const args = [
    ...listen,
    ...(options.aclFile ? ['--aclfile', options.aclFile] : []),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    '--logfile',
    '',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} did not start in time: ${output}`));
    }, options.startTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        error.message.includes('ENOENT')
          ? new Error('redis-server is not installed (apt-get install -y redis-server)')
          : error,
      );
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output.trim()}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
