import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@orch/testing';
import { waitFor } from '../processes';
import { HttpClient } from './http';
import { type OwnedProcess, ownDir, removeDir, spawnOwned } from './owned-process';
import { PEERS_DIR } from './peers-install';
import { assertListener } from './proc-tree';
import type { CompletionCounter, Flow, RunClient, RunningSystem } from './system';

const BINARY = join(PEERS_DIR, 'node_modules', '@restatedev', 'restate-server-linux-x64', 'bin', 'restate-server');
const SERVICE = join(PEERS_DIR, 'restate-service.cjs');

/**
 * restate-server asks api.github.com for its latest release at every start, whatever the configuration says (its
 * telemetry is switched off with RESTATE_DISABLE_TELEMETRY). The bench reaches nothing outside this machine, so the
 * server runs in a mount namespace of its own whose /etc/hosts points those names at a closed local port.
 */
const BLOCKED_HOSTS = ['api.github.com', 'github.com', 'uploads.github.com', 'restate.gateway.scarf.sh'];

function serverEnv(ports: { ingress: number; admin: number; fabric: number }): Record<string, string> {
  return {
    RESTATE_LISTEN_MODE: 'tcp',
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ports.ingress}`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${ports.admin}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${ports.fabric}`,
    RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${ports.fabric}/`,
    RESTATE_NODE_NAME: 'bench',
    RESTATE_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: '1',
    RESTATE_LOG_FILTER: 'warn',
    RESTATE_LOG_FORMAT: 'compact',
    RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
  };
}

/** Runs `command` with /etc/hosts replaced by the file in $HOSTS_FILE, in a private mount namespace (unprivileged: a user one too). */
function isolatedCommand(command: string, args: string[]): [string, string[]] {
  const ns = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const script = 'mount --bind "$HOSTS_FILE" /etc/hosts && exec "$0" "$@"';
  return ['unshare', [...ns, 'sh', '-c', script, command, ...args]];
}

/** The settings that decide what Restate has on disk when it acknowledges a step, from its effective configuration. */
export function durabilitySettings(toml: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const line of toml.split('\n')) {
    const header = /^\[([^\]]+)\]$/.exec(line.trim());
    if (header?.[1]) {
      section = header[1];
      continue;
    }
    const kv = /^([a-z0-9-]+)\s*=\s*(.+)$/.exec(line.trim());
    if (!kv?.[1] || !kv[2]) continue;
    if (/fsync|disable-wal$|default-provider|default-replication|journal-retention/.test(kv[1])) {
      out[section ? `${section}.${kv[1]}` : kv[1]] = kv[2].replace(/^"|"$/g, '');
    }
  }
  return out;
}

class RestateClient implements RunClient {
  private readonly http: HttpClient;

  constructor(ingress: string) {
    this.http = new HttpClient(ingress);
  }

  async run(flow: Flow, width?: number): Promise<void> {
    const res = await this.http.post(`/bench/${flow}`, width === undefined ? {} : { width });
    if (res.status !== 200 || (res.body as { ok?: boolean }).ok !== true)
      throw new Error(`restate ${flow}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  close(): void {
    this.http.close();
  }
}

export async function startRestate(log: (m: string) => void): Promise<RunningSystem> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the bench runs Restate on linux-x64');
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: the peers' packages are not installed`);
  const dir = ownDir(mkdtempSync(join(tmpdir(), 'orch-peers-restate-')));
  const hosts = join(dir, 'hosts');
  writeFileSync(
    hosts,
    `127.0.0.1 localhost\n::1 localhost\n${BLOCKED_HOSTS.map((h) => `127.0.0.1 ${h}`).join('\n')}\n`,
  );
  const ports = { ingress: await freePort(), admin: await freePort(), fabric: await freePort() };
  const env = { ...serverEnv(ports), HOSTS_FILE: hosts };
  const [cmd, args] = isolatedCommand(BINARY, ['--no-logo', '--base-dir', join(dir, 'data')]);
  const children: OwnedProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()));
    removeDir(dir);
  };
  try {
    const server = spawnOwned('restate-server', cmd, args, { cwd: dir, env, graceMs: 3000 });
    children.push(server);
    const admin = `http://127.0.0.1:${ports.admin}`;
    const ingress = `http://127.0.0.1:${ports.ingress}`;
    await waitUntilHealthy(server, [`${admin}/health`, `${ingress}/restate/health`]);
    for (const port of Object.values(ports)) assertListener(server.pid, port, 'the bench restate-server');

    const servicePort = await freePort();
    const statsPort = await freePort();
    const service = spawnOwned('restate-service', process.execPath, [SERVICE], {
      cwd: PEERS_DIR,
      env: {
        PORT: String(servicePort),
        STATS_PORT: String(statsPort),
        RESTATE_LOGGING: 'WARN',
        NODE_ENV: 'production',
      },
    });
    children.push(service);
    await service.waitForOutput('restate service ready', 20_000);
    assertListener(service.pid, servicePort, 'the bench Restate service');
    assertListener(service.pid, statsPort, 'the bench Restate service');
    const registered = await fetch(`${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${servicePort}` }),
    });
    if (!registered.ok) throw new Error(`registering the deployment: ${registered.status} ${await registered.text()}`);
    await waitFor(
      async () => {
        const res = await fetch(`${ingress}/bench/chain`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        await res.arrayBuffer();
        return res.status === 200;
      },
      20_000,
      () => 'the Restate ingress to route to the bench service',
    );
    log(
      `Restate server on 127.0.0.1:${ports.ingress} (admin ${ports.admin}, pid ${server.pid}), service pid ${service.pid}`,
    );
    const stats = `http://127.0.0.1:${statsPort}/stats`;
    return {
      name: 'restate',
      pids: () => [server.pid, service.pid],
      variants: [
        { key: 'restate', system: 'restate', label: 'Restate', client: async () => new RestateClient(ingress) },
      ],
      flatOut: { url: `${ingress}/bench/five/send`, body: '{}' },
      counter: async () => restateCounter(stats, admin),
      describe: async () => ({
        server: ((await (await fetch(`${admin}/version`)).json()) as { version: string }).version,
        sdk: packageVersion('@restatedev/restate-sdk'),
        durability: durabilitySettings(execFileSync(BINARY, ['--dump-config'], { env, encoding: 'utf8' })),
        notes: 'one node with every role; its log lives on the local log-server, which fsyncs its WAL',
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntilHealthy(server: OwnedProcess, urls: string[]): Promise<void> {
  await waitFor(
    async () => {
      if (server.exited()) throw new Error(`restate-server exited: ${server.output()}`);
      for (const url of urls) {
        const ok = await fetch(url).then(
          (r) => r.ok,
          () => false,
        );
        if (!ok) return false;
      }
      return true;
    },
    60_000,
    () => `restate-server to answer ${urls.join(' and ')}: ${server.output()}`,
  );
}

/**
 * Completed five-step runs, from the bench service's stats endpoint. Under workload (d)'s flood a read can fail
 * (`fetch failed`: the service's sockets are full); a few retries with backoff keep one such read from aborting the
 * whole run, while a service that stays unreachable still fails it.
 */
async function doneFives(stats: string, attempts = 6): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(stats);
      if (!res.ok) throw new Error(`stats: ${res.status}`);
      return ((await res.json()) as { done: { five: number } }).done.five;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

async function restateCounter(stats: string, admin: string): Promise<CompletionCounter> {
  const base = await doneFives(stats);
  return {
    progress: async () => (await doneFives(stats)) - base,
    async completedBetween(from, to) {
      const iso = (ms: number) => new Date(ms).toISOString();
      const query =
        "SELECT count(*) AS n FROM sys_invocation WHERE target = 'bench/five' AND completion_result = 'success' " +
        `AND completed_at >= '${iso(from)}' AND completed_at <= '${iso(to)}'`;
      const res = await fetch(`${admin}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query }),
      });
      if (!res.ok) throw new Error(`restate introspection: ${res.status} ${await res.text()}`);
      return Number(((await res.json()) as { rows: { n: number }[] }).rows[0]?.n ?? 0);
    },
    close: async () => undefined,
  };
}

export function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}
