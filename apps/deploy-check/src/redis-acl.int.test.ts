import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection, type RedisSettings } from '@orch/redis';
import {
  makeTestCertificates,
  type RedisServer,
  startRedisServer,
  type TestCertificates,
  withDeadline,
} from '@orch/testing';
import { REPO_ROOT } from './deploy-files';

type Redis = ReturnType<typeof createRedisConnection>;

import { buildApps, killAll, type ServiceProcess, startService } from './test-processes';

jest.setTimeout(120_000);

/**
 * The README's Redis ACL file (docker/redis/users.acl, unchanged) on a TLS-only redis-server with client
 * certificates: every process connects as its own user over TLS, a full run goes through all of them, and each
 * user is refused what its role does not need (the "read another run's outputs straight from Redis" attack).
 */
const ACL_FILE = join(REPO_ROOT, 'docker', 'redis', 'users.acl');
const KEY = 'acl-test-key';
const SECRET = 'acl-test-service-secret-0123456789abcdef';
const ROLES = {
  api: 'orch-api',
  worker: 'orch-worker',
  'data-abstractor': 'orch-data',
  'ai-abstractor': 'orch-ai',
  'exec-agent': 'orch-exec',
};

const aclText = readFileSync(ACL_FILE, 'utf8');
/** user -> the placeholder password the file gives it (`>password`). */
const passwords = Object.fromEntries(
  aclText
    .trim()
    .split('\n')
    .map((line) => [line.split(' ')[1], / >(\S+)/.exec(line)?.[1]]),
) as Record<string, string>;

let dir: string;
let certs: TestCertificates;
let server: RedisServer;
const services: ServiceProcess[] = [];
const clients: Redis[] = [];
let apiUrl: string;

function settings(user?: string): RedisSettings {
  const pem = (path: string) => readFileSync(path, 'utf8');
  return {
    host: server.host,
    port: server.port,
    ...(user ? { username: user, password: passwords[user] } : {}),
    tls: { ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey) },
  };
}

/** A client of `user`, ready (or rejected with the server's answer to its AUTH). */
async function connect(user?: string): Promise<Redis> {
  const client = createRedisConnection(settings(user), 'api', `acl-test-${user ?? 'anonymous'}`);
  clients.push(client);
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  return client;
}

const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  buildApps(Object.keys(ROLES));
  dir = mkdtempSync(join(tmpdir(), 'orch-acl-'));
  chmodSync(dir, 0o711); // the exec workspace is under it: the sandbox user passes through
  certs = makeTestCertificates(dir);
  server = await startRedisServer({
    aclFile: ACL_FILE,
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca },
  });
  for (const [role, user] of Object.entries(ROLES)) {
    const env = {
      REDIS_HOST: server.host,
      REDIS_PORT: String(server.port),
      REDIS_USERNAME: user,
      REDIS_PASSWORD: passwords[user] as string,
      REDIS_TLS: 'true',
      REDIS_TLS_CA: certs.ca,
      REDIS_TLS_CERT: certs.clientCert,
      REDIS_TLS_KEY: certs.clientKey,
      QUEUE_PREFIX: 'orch', // the prefix the ACL's key and channel patterns name
      SERVICE_SECRET: SECRET,
      ORCHESTRATOR_API_KEYS: KEY,
      ORCHESTRATOR_HOST: '127.0.0.1',
      ORCHESTRATOR_PORT: '0',
      ORCHESTRATOR_TEMPLATES: join(REPO_ROOT, 'templates'),
      ORCHESTRATOR_WORKSPACE: join(dir, 'workspace'),
      LOG_LEVEL: 'info',
    };
    services.push(startService(role, process.execPath, [join(REPO_ROOT, 'apps', role, 'dist', 'main.js')], env));
  }
  const byName = (name: string) => services.find((s) => s.name === name) as ServiceProcess;
  const [listening] = await Promise.all([
    byName('api').waitForLog((l) => l.message === 'api listening', 'api listening'),
    byName('worker').waitForLog((l) => l.message === 'worker ready', 'worker ready'),
    ...['data-abstractor', 'ai-abstractor', 'exec-agent'].map((name) =>
      byName(name).waitForLog((l) => l.message === 'listening for requests', 'its subscription'),
    ),
  ]);
  apiUrl = String(listening?.url);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await killAll(services);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README ACL file over TLS', () => {
  it('is the file the README shows', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`\n${aclText}\`\`\``);
  });

  let runId: string;
  it('carries a full run through every process, each on its own user', async () => {
    const submitted = await fetch(`${apiUrl}/api/v1/workflows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow_template: 'data-analysis-basic', variables: { query_limit: 20 } }),
    });
    expect(submitted.status).toBe(202);
    runId = ((await submitted.json()) as { execution_id: string }).execution_id;
    const events = await fetch(`${apiUrl}/api/v1/workflows/${runId}/events`, { headers: auth });
    await withDeadline(events.text(), 60_000, 'the end of the run');
    const record = (await (await fetch(`${apiUrl}/api/v1/workflows/${runId}`, { headers: auth })).json()) as {
      status: string;
      error?: string;
      tasks: { id: string; status: string; output?: { mode?: string } }[];
    };
    expect([record.status, record.error]).toEqual(['completed', undefined]);
    expect(record.tasks.find((t) => t.id === 'process_data')?.output?.mode).toBe('sandbox');
    for (const path of ['/status', '/metrics', '/admin/queues/api/queues']) {
      expect([path, (await fetch(`${apiUrl}${path}`, { headers: auth })).status]).toEqual([path, 200]);
    }
  });

  it('lets a bus client submit over workflow-requests and hear the answers, and nothing else', async () => {
    const listener = await connect('orch-bus-client');
    const publisher = await connect('orch-bus-client');
    const answers: { type: string }[] = [];
    const completed = new Promise<void>((resolve) => {
      listener.on('message', (_channel: string, text: string) => {
        answers.push(JSON.parse(text) as { type: string });
        if (answers.at(-1)?.type === 'completed') resolve();
      });
    });
    await listener.subscribe('workflow-responses');
    const request = {
      correlation_id: 'acl-bus-1',
      workflow_template: 'ai-content-pipeline',
      variables: { topic: 'ACLs' },
    };
    expect(await publisher.publish('workflow-requests', JSON.stringify(request))).toBe(1);
    await withDeadline(completed, 60_000, 'the completed message');
    expect(answers.map((a) => a.type)).toEqual(['accepted', 'completed']);
    await expect(publisher.get(`orch:x:{${runId}}:out`)).rejects.toThrow(/NOPERM/);
    await expect(publisher.publish('exec-requests', '{}')).rejects.toThrow(/NOPERM/);
  });

  it("refuses each service user other runs' data, other channels and admin commands", async () => {
    for (const user of ['orch-data', 'orch-ai', 'orch-exec']) {
      const client = await connect(user);
      await expect(client.hgetall(`orch:x:{${runId}}:out`)).rejects.toThrow(/NOPERM/);
      await expect(client.keys('*')).rejects.toThrow(/NOPERM/);
      await expect(client.publish('workflow-requests', '{}')).rejects.toThrow(/NOPERM/);
      await expect(client.publish(user === 'orch-data' ? 'exec-requests' : 'data-requests', '{}')).rejects.toThrow(
        /NOPERM/,
      );
    }
    for (const user of ['orch-api', 'orch-worker']) {
      const client = await connect(user);
      expect(Object.keys(await client.hgetall(`orch:x:{${runId}}:out`))).toContain('process_data');
      await expect(client.flushall()).rejects.toThrow(/NOPERM/);
      await expect(client.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
      await expect(client.get('other-app:secret')).rejects.toThrow(/NOPERM/);
    }
  });

  it('gives an SDK worker the engine keys and channels, not the services’ channels or admin commands', async () => {
    const client = await connect('orch-sdk-worker');
    expect(Object.keys(await client.hgetall(`orch:x:{${runId}}:out`))).toContain('process_data');
    await client.hset('orch:g:{g}:task-types', 'acl-probe', '{}');
    expect(await client.hdel('orch:g:{g}:task-types', 'acl-probe')).toBe(1);
    expect(await client.publish('orch:abort', 'none')).toBeGreaterThanOrEqual(0);
    await expect(client.publish('exec-requests', '{}')).rejects.toThrow(/NOPERM/);
    await expect(client.publish('workflow-requests', '{}')).rejects.toThrow(/NOPERM/);
    await expect(client.flushall()).rejects.toThrow(/NOPERM/);
    await expect(client.get('other-app:secret')).rejects.toThrow(/NOPERM/);
  });

  it('lets nobody in without a user or with a wrong password', async () => {
    await expect(connect()).rejects.toThrow(/NOAUTH|WRONGPASS/);
    passwords['orch-api-wrong'] = 'guess';
    await expect(connect('orch-api-wrong')).rejects.toThrow(/WRONGPASS/);
  });
});
