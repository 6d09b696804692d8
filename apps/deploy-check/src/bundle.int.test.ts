import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import {
  type DockerInstruction,
  interpolateDefaults,
  parseDockerfile,
  REPO_ROOT,
  readYamlDocuments,
  shellWords,
} from './deploy-files';
import { DOCKER_DIR, declaredRoles } from './test-deploy-config';
import { buildApps, callJson, killAll, type ServiceProcess, startService } from './test-processes';

jest.setTimeout(120_000);

/**
 * The production tree the image runs, assembled on this machine from docker/Dockerfile's own instructions (its
 * manifest COPY lines, its production `pnpm install` line, docker/collect-runtime.sh, its templates COPY), then run
 * with `node` through docker/entrypoint.sh: what `docker build` would produce, short of the image layers.
 */

const KEY = 'deploy-check-key';
const ROLES = declaredRoles('entrypoint.sh');
const instructions = parseDockerfile(readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8'));
const stage = (name: string): DockerInstruction[] => instructions.filter((i) => i.stage === name);

let bundle: string;
let server: RedisServer;
const services: ServiceProcess[] = [];
let apiUrl: string;

/** Like `COPY src... dest` with WORKDIR /src, into `into`. */
function copyLike(instruction: DockerInstruction, from: string, into: string): void {
  const words = shellWords(instruction.args).filter((w) => !w.startsWith('--'));
  const dest = words.pop() as string;
  for (const source of words) {
    const target = dest.endsWith('/') ? join(into, dest, basename(source)) : join(into, dest);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(from, source), target);
  }
}

/** The environment docker-compose.yml gives `service`, with its defaults, pointed at this test's Redis and tree. */
function serviceEnv(service: string): Record<string, string> {
  const [compose] = readYamlDocuments(join(DOCKER_DIR, 'docker-compose.yml')) as {
    services: Record<string, { environment: Record<string, string> }>;
  }[];
  const env = Object.fromEntries(
    Object.entries(compose?.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolateDefaults(v)]),
  );
  return {
    ...env,
    NODE_ENV: 'production', // the image's ENV
    ORCHESTRATOR_HOME: bundle, // the image's /app
    REDIS_HOST: server.host,
    REDIS_PORT: String(server.port),
    ORCHESTRATOR_HOST: '127.0.0.1',
    ORCHESTRATOR_PORT: '0',
    ORCHESTRATOR_TEMPLATES: join(bundle, 'templates'),
    ORCHESTRATOR_WORKSPACE: join(bundle, 'workspace'),
    ORCHESTRATOR_API_KEYS: KEY,
    SERVICE_SECRET: 'bundle-check-service-secret-0123456789abcdef',
  };
}

function startRole(role: string): ServiceProcess {
  const service = startService(role, 'sh', [join(DOCKER_DIR, 'entrypoint.sh'), role], serviceEnv(role), bundle);
  services.push(service);
  return service;
}

/** Symbolic links under `dir` whose target is outside it (or missing). */
function linksLeaving(dir: string): string[] {
  const outside: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isSymbolicLink()) {
        const target = existsSync(path) ? realpathSync(path) : '(missing)';
        if (!target.startsWith(`${dir}/`)) outside.push(`${path} -> ${target}`);
      } else if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return outside;
}

const auth = { authorization: `Bearer ${KEY}` };

/** Starts a run over HTTP and waits for its end by reading its event stream to the end (the server closes it). */
async function run(body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${apiUrl}/api/v1/workflows`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const started = (await response.json()) as { execution_id: string };
  expect([response.status, started]).toEqual([202, expect.objectContaining({ execution_id: expect.any(String) })]);
  const events = await fetch(`${apiUrl}/api/v1/workflows/${started.execution_id}/events`, { headers: auth });
  await withDeadline(events.text(), 30_000, `the end of run ${started.execution_id}`);
  const record = await fetch(`${apiUrl}/api/v1/workflows/${started.execution_id}`, { headers: auth });
  return (await record.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  buildApps(ROLES);
  bundle = mkdtempSync(join(tmpdir(), 'orch-bundle-'));
  chmodSync(bundle, 0o755); // like the image's /app: the exec sandbox's user passes through to the workspace
  // Stage `manifests` (via `prod-deps`): the lockfile, the workspace file and every package.json.
  for (const copy of [...stage('manifests'), ...stage('prod-deps')].filter((i) => i.keyword === 'COPY'))
    copyLike(copy, REPO_ROOT, bundle);
  // Stage `prod-deps`: its install line, from this machine's pnpm store instead of a cache mount and the network.
  const install = stage('prod-deps').find((i) => i.keyword === 'RUN' && i.args.includes('pnpm install'));
  const words = shellWords(install?.args ?? '');
  const pnpmArgs = words.slice(words.indexOf('pnpm') + 1).filter((w, i, all) => {
    return w !== '--store-dir' && all[i - 1] !== '--store-dir';
  });
  execFileSync('pnpm', [...pnpmArgs, '--offline', '--reporter=silent'], {
    cwd: bundle,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Stage `build`: its collect step, over this repository's fresh dist/.
  const collect = stage('build').find((i) => i.keyword === 'RUN' && i.args.includes('collect-runtime.sh'));
  expect(collect?.args).toContain('sh docker/collect-runtime.sh /src /out');
  execFileSync('sh', [join(DOCKER_DIR, 'collect-runtime.sh'), REPO_ROOT, bundle], { stdio: 'inherit' });
  // Stage `runtime`: the templates.
  const templates = stage('runtime').find((i) => i.keyword === 'COPY' && i.args === 'templates /app/templates');
  expect(templates).toBeDefined();
  cpSync(join(REPO_ROOT, 'templates'), join(bundle, 'templates'), { recursive: true });

  server = await startRedisServer();
  const api = startRole('api');
  const ready = [
    api.waitForLog((l) => l.message === 'api listening', 'api listening'),
    startRole('worker').waitForLog((l) => l.message === 'worker ready', 'worker ready'),
    startRole('data-abstractor').waitForLog((l) => String(l.message).startsWith('data-abstractor started'), 'start'),
    startRole('ai-abstractor').waitForLog((l) => l.message === 'ai-abstractor started', 'start'),
    startRole('exec-agent').waitForLog((l) => l.message === 'exec-agent started', 'start'),
  ];
  const [listening] = await Promise.all(ready);
  apiUrl = String(listening?.url);
});

afterAll(async () => {
  await killAll(services);
  await server?.stop();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
});

describe('the production bundle', () => {
  it('holds production dependencies and compiled code only', () => {
    const store = readdirSync(join(bundle, 'node_modules', '.pnpm'));
    const devTools = /^(jest|@jest\+|@swc\+|@biomejs\+|ts-node|madge|autocannon|@types\+jest|kubernetes-models)/;
    expect(store.filter((entry) => devTools.test(entry))).toEqual([]);
    for (const role of ROLES) {
      expect(existsSync(join(bundle, 'apps', role, 'dist', 'main.js'))).toBe(true);
      expect(existsSync(join(bundle, 'apps', role, 'src'))).toBe(false);
    }
    expect(existsSync(join(bundle, 'packages', 'engine', 'src'))).toBe(false);
    // Read at run time beside dist/, so collect-runtime.sh must keep it.
    expect(readdirSync(join(bundle, 'packages', 'engine', 'lua')).length).toBeGreaterThan(0);
    // Self-contained like the image: no link leads out of the tree (into this repository or the pnpm store).
    expect(linksLeaving(bundle)).toEqual([]);
  });

  it('answers /health without a key, and the rest only with one', async () => {
    const health = await callJson('GET', `${apiUrl}/health`);
    expect([health.status, health.body.status]).toEqual([200, 'ok']);
    const templates = await fetch(`${apiUrl}/api/v1/templates`);
    expect(templates.status).toBe(401);
  });

  it('serves the web view: its files beside dist/ (apps/api/ui) and dagre from the production install', async () => {
    for (const path of ['/ui/', '/ui/assets/app.js', '/ui/assets/style.css', '/ui/assets/dagre.min.js']) {
      const response = await fetch(`${apiUrl}${path}`);
      expect([path, response.status]).toEqual([path, 200]);
    }
  });

  it('runs a workflow through the data and exec stand-ins', async () => {
    const record = await run({
      workflow: {
        id: 'bundle-check',
        tasks: [
          {
            id: 'fetch',
            type: 'data',
            parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n LIMIT 3' } },
          },
          {
            id: 'count',
            type: 'exec',
            depends_on: ['fetch'],
            // The image has node and no python: the exec-agent's sandbox runs what the image has.
            parameters: {
              image: 'node:20.20.2-bookworm-slim',
              command: ['node', '-e', 'console.log("{\\"ok\\":true}")'],
            },
          },
          {
            id: 'summary',
            type: 'transform',
            depends_on: ['count'],
            parameters: { output: { rows: '${len(fetch.output.rows)}', ok: '${count.output.json.ok}' } },
          },
        ],
      },
    });
    expect(record.status).toBe('completed');
    const tasks = record.tasks as { id: string; output?: unknown }[];
    expect(tasks.find((t) => t.id === 'summary')?.output).toEqual({ rows: 3, ok: true });
  });

  it('runs the built-in ai-content-pipeline template with the ai stand-in', async () => {
    const record = await run({ workflow_template: 'ai-content-pipeline', variables: { topic: 'container images' } });
    expect(record.status).toBe('completed');
    const tasks = record.tasks as { id: string; status: string }[];
    expect(tasks.filter((t) => t.status === 'completed').map((t) => t.id)).toEqual(
      expect.arrayContaining(['outline', 'draft', 'quality_gate']),
    );
  });

  it('runs the cli role, and refuses an unknown role', () => {
    const env = { ...serviceEnv('api'), PATH: process.env.PATH ?? '' };
    const entrypoint = join(DOCKER_DIR, 'entrypoint.sh');
    const listing = execFileSync('sh', [entrypoint, 'cli', 'templates'], { cwd: bundle, env, encoding: 'utf8' });
    expect(listing).toMatch(/^2 templates in /);
    let refused: { status?: number; stderr?: string } = {};
    try {
      execFileSync('sh', [entrypoint, 'sheduler'], { cwd: bundle, env, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      refused = error as { status?: number; stderr?: string };
    }
    expect([refused.status, refused.stderr]).toEqual([64, expect.stringContaining("unknown role 'sheduler'")]);
  });

  it('stops every process cleanly on SIGTERM', async () => {
    // API first, then the worker, the stand-ins last: the order compose and Kubernetes do not guarantee, but the
    // one in which nothing is left waiting for something already gone.
    const order = ['api', 'worker', 'data-abstractor', 'ai-abstractor', 'exec-agent'];
    for (const name of order) {
      const service = services.find((s) => s.name === name) as ServiceProcess;
      expect([name, await service.stop('SIGTERM', 20_000)]).toEqual([name, { code: 0, signal: null }]);
    }
  });
});
