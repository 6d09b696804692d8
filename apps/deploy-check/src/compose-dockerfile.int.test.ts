import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import {
  type DockerInstruction,
  interpolateDefaults,
  parseDockerfile,
  REPO_ROOT,
  readYamlDocuments,
  shellWords,
  workspaceProjects,
} from './deploy-files';
import { configVariableNames, DOCKER_DIR, declaredRoles, durationSeconds, REFERENCE_VARS } from './test-deploy-config';

type Service = Record<string, unknown> & {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
};

const APP_SERVICES = ['api', 'worker', 'data-abstractor', 'ai-abstractor', 'exec-agent'];
const ROOT_MANIFEST = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  packageManager: string;
  engines: { node: string };
};

function compose(file: string): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  const [doc] = readYamlDocuments(join(DOCKER_DIR, file));
  return doc as { services: Record<string, Service>; volumes?: Record<string, unknown> };
}

/** The environment a service gets when nothing is set on the host: compose's defaults applied. */
function resolvedEnv(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolateDefaults(String(v))]),
  );
}

/**
 * The compose file's shape, written down because docker-compose itself may be missing: what each kind of service
 * must have. Semantics (names, values, cross-file agreement) are asserted below.
 */
const composeSchema = {
  type: 'object',
  required: ['services', 'volumes'],
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  properties: {
    services: {
      type: 'object',
      required: ['redis', ...APP_SERVICES],
      additionalProperties: false,
      properties: {
        redis: {
          type: 'object',
          required: ['image', 'command', 'volumes', 'healthcheck'],
          properties: { command: { type: 'array', items: { type: 'string' } } },
        },
        ...Object.fromEntries(
          APP_SERVICES.map((name) => [
            name,
            {
              type: 'object',
              required: ['image', 'build', 'command', 'environment', 'depends_on', 'stop_grace_period'],
              properties: {
                image: { type: 'string' },
                build: {
                  type: 'object',
                  required: ['context', 'dockerfile'],
                  properties: { context: { const: '..' }, dockerfile: { const: 'docker/Dockerfile' } },
                },
                command: { type: 'array', items: { type: 'string' }, minItems: 1 },
                environment: { type: 'object', additionalProperties: { type: 'string' } },
                stop_grace_period: { type: 'string' },
              },
            },
          ]),
        ),
      },
    },
    volumes: { type: 'object', required: ['redis-data'] },
  },
};

function stageChain(instructions: DockerInstruction[], stage: string): DockerInstruction[] {
  const from = instructions.find((i) => i.keyword === 'FROM' && i.stage === stage);
  if (!from) throw new Error(`no stage ${stage}`);
  const parent = shellWords(from.args)[0] as string;
  const own = instructions.filter((i) => i.stage === stage);
  const isStage = instructions.some((i) => i.keyword === 'FROM' && i.stage === parent);
  return isStage ? [...stageChain(instructions, parent), ...own] : own;
}

function dockerComposeCommand(): string[] | undefined {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0] as string, [...candidate.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

describe('docker-compose files', () => {
  const base = compose('docker-compose.yml');
  const override = compose('docker-compose.override.yml');
  const known = new Set([...REFERENCE_VARS, ...configVariableNames()]);
  const dockerfile = parseDockerfile(readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8'));

  it('reads the config schema it compares against', () => {
    // Guards the source scan: if load-config.ts changes shape, this says so instead of every name being unknown.
    expect(configVariableNames()).toEqual(expect.arrayContaining([...REFERENCE_VARS, 'QUEUE_PREFIX', 'WORKER_NAME']));
  });

  it('has the expected shape', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(composeSchema);
    expect(validate(base) ? [] : validate.errors).toEqual([]);
  });

  it('runs Redis 7 with an append-only file on a named volume, never evicting', () => {
    const redis = base.services.redis as Service;
    expect(redis.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z]+)?$/);
    const command = (redis.command ?? []).join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes).toContain('redis-data:/data');
    expect(base.volumes).toHaveProperty('redis-data');
    expect(redis.healthcheck?.test.join(' ')).toContain('ping');
  });

  it("gives every Orchestrator service exactly the reference's variables plus known settings of our own", () => {
    for (const name of APP_SERVICES) {
      const env = (base.services[name] as Service).environment ?? {};
      expect([name, REFERENCE_VARS.filter((v) => !(v in env))]).toEqual([name, []]);
      expect([name, Object.keys(env).filter((v) => !known.has(v))]).toEqual([name, []]);
    }
  });

  it('sets values that agree with the image, the API port and the Redis service', () => {
    const runtimeEnv = stageChain(dockerfile, 'runtime')
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    for (const name of APP_SERVICES) {
      const env = resolvedEnv(base.services[name] as Service);
      expect([name, env.REDIS_HOST, env.REDIS_PORT]).toEqual([name, 'redis', '6379']);
      expect(runtimeEnv).toContain(`ORCHESTRATOR_TEMPLATES=${env.ORCHESTRATOR_TEMPLATES}`);
      expect(env.ORCHESTRATOR_HOST).toBe('0.0.0.0');
      expect(Number(env.MAX_CONCURRENT_WORKFLOWS)).toBeGreaterThan(0);
      for (const duration of ['DEFAULT_WORKFLOW_TIMEOUT', 'EXECUTION_TTL', 'RECOVERY_INTERVAL'])
        expect(durationSeconds(env[duration] as string)).toBeGreaterThan(0);
      expect(env.RECOVERY_ENABLED).toMatch(/^(true|false)$/);
    }
    const api = base.services.api as Service;
    const port = resolvedEnv(api).ORCHESTRATOR_PORT;
    expect((api.ports ?? []).map(interpolateDefaults)).toEqual([`8080:${port}`]);
    expect(api.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
  });

  it('runs one image for every role, with the role as its command', () => {
    const images = new Set(APP_SERVICES.map((n) => (base.services[n] as Service).image));
    expect(images.size).toBe(1);
    for (const name of APP_SERVICES) expect((base.services[name] as Service).command).toEqual([name]);
    for (const name of APP_SERVICES) {
      expect((base.services[name] as Service).depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
  });

  it('runs three workers and lets them finish their jobs on stop', () => {
    const worker = base.services.worker as Service;
    expect(worker.deploy?.replicas).toBe(3);
    // The worker's default deadline for one service call is 300 s (apps/worker/src/tasks/call-service.ts).
    expect(durationSeconds(worker.stop_grace_period as string)).toBeGreaterThanOrEqual(300);
    const [workerPod] = readYamlDocuments(join(DOCKER_DIR, 'k8s/base/worker.yaml')) as {
      spec: { template: { spec: { terminationGracePeriodSeconds: number } } };
    }[];
    expect(durationSeconds(worker.stop_grace_period as string)).toBe(
      workerPod?.spec.template.spec.terminationGracePeriodSeconds,
    );
  });

  it('has a development override that only adds to known services', () => {
    expect(Object.keys(override.services).filter((s) => !(s in base.services))).toEqual([]);
    const templatesDir = resolvedEnv(base.services.api as Service).ORCHESTRATOR_TEMPLATES;
    expect((override.services.api as Service).volumes).toContain(`../templates:${templatesDir}`);
    expect((override.services.worker as Service).volumes).toContain(`../templates:${templatesDir}:ro`);
    expect((override.services.api as Service).environment?.LOG_LEVEL).toBe('debug');
    expect((override.services.redis as Service).ports?.map(interpolateDefaults)).toEqual(['6379:6379']);
  });

  it('passes `docker-compose config` (with and without the override)', () => {
    // `./scripts/bootstrap.sh --test` installs Debian's docker-compose; without it this check cannot run.
    const cli = dockerComposeCommand();
    if (!cli)
      throw new Error(
        'docker-compose is not installed: run ./scripts/bootstrap.sh --test (apt-get install -y docker-compose)',
      );
    const run = (files: string[]) =>
      spawnSync(
        (cli as string[])[0] as string,
        [...(cli as string[]).slice(1), ...files.flatMap((f) => ['-f', f]), 'config'],
        // No host variables: the files must stand on their defaults.
        { cwd: DOCKER_DIR, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      );
    const alone = run(['docker-compose.yml']);
    expect([alone.status, alone.stderr]).toEqual([0, expect.any(String)]);
    const merged = run(['docker-compose.yml', 'docker-compose.override.yml']);
    expect([merged.status, merged.stderr]).toEqual([0, expect.any(String)]);
    // docker-compose's own interpolation must agree with the defaults the other tests assumed.
    const rendered = parse(alone.stdout) as { services: Record<string, Service> };
    for (const name of APP_SERVICES) {
      expect(rendered.services[name]?.environment).toEqual(resolvedEnv(base.services[name] as Service));
    }
    expect(rendered.services.worker?.deploy?.replicas).toBe(3);
    const mergedServices = (parse(merged.stdout) as { services: Record<string, Service> }).services;
    expect(mergedServices.api?.environment?.LOG_LEVEL).toBe('debug');
  });
});

describe('Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8'));
  const runtime = stageChain(instructions, 'runtime');

  it('starts from an exact node:20 bookworm-slim tag that satisfies the engines field', () => {
    const images = instructions
      .filter((i) => i.keyword === 'FROM')
      .map((i) => shellWords(i.args)[0] as string)
      .filter((image) => !instructions.some((i) => i.keyword === 'FROM' && i.stage === image));
    expect(images).toHaveLength(1);
    const match = /^node:(20)\.(\d+)\.(\d+)-bookworm-slim$/.exec(images[0] as string);
    expect(match).not.toBeNull();
    const [, , minor] = match as RegExpExecArray;
    const wanted = /^>=20\.(\d+)/.exec(ROOT_MANIFEST.engines.node);
    expect(Number(minor)).toBeGreaterThanOrEqual(Number(wanted?.[1]));
  });

  it('installs the pinned pnpm with npm', () => {
    const pnpm = ROOT_MANIFEST.packageManager.replace(/^pnpm@/, '');
    expect(instructions.filter((i) => i.keyword === 'RUN' && i.args.includes('npm install -g pnpm@'))).toEqual([
      expect.objectContaining({ args: expect.stringContaining(`npm install -g pnpm@${pnpm} `) }),
    ]);
    expect(instructions.some((i) => /corepack/.test(i.args))).toBe(false);
  });

  it('copies the lockfile and every workspace package.json before installing, and the sources after', () => {
    const build = stageChain(instructions, 'build');
    const install = build.findIndex((i) => i.keyword === 'RUN' && /\bpnpm install\b/.test(i.args));
    const sources = build.findIndex((i) => i.keyword === 'COPY' && shellWords(i.args).join(' ') === '. .');
    expect(install).toBeGreaterThan(-1);
    expect(sources).toBeGreaterThan(install);
    const copied = build
      .slice(0, install)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => shellWords(i.args).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml']));
    const manifests = copied.filter((f) => f.endsWith('/package.json')).map((f) => f.replace(/\/package\.json$/, ''));
    expect(manifests.sort()).toEqual(workspaceProjects(REPO_ROOT));
    // The production install works from the same manifests, without the sources.
    const prod = stageChain(instructions, 'prod-deps');
    expect(prod.some((i) => i.keyword === 'COPY' && shellWords(i.args).join(' ') === '. .')).toBe(false);
  });

  it('installs production dependencies of exactly the roles the entrypoint knows', () => {
    const prodInstall = stageChain(instructions, 'prod-deps').filter(
      (i) => i.keyword === 'RUN' && /\bpnpm install\b/.test(i.args),
    );
    expect(prodInstall).toHaveLength(1); // `build`, with the full install, is not an ancestor
    const words = shellWords((prodInstall[0] as DockerInstruction).args);
    expect(words).toEqual(expect.arrayContaining(['--prod', '--frozen-lockfile']));
    const filters = words.flatMap((w, i) => (words[i - 1] === '--filter' ? [w] : []));
    const roles = declaredRoles('entrypoint.sh');
    expect(filters.sort()).toEqual(roles.map((r) => `@orch/${r}...`).sort());
    expect(declaredRoles('collect-runtime.sh')).toEqual(roles);
    for (const role of roles) {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'apps', role, 'package.json'), 'utf8'));
      expect(manifest.name).toBe(`@orch/${role}`);
    }
  });

  it('runs as a non-root user under tini, the API by default, with the templates', () => {
    const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.some((i) => i.keyword === 'RUN' && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    // The exec-agent's sandbox: without bubblewrap it refuses to start.
    expect(runtime.some((i) => i.keyword === 'RUN' && /apt-get install .*\bbubblewrap\b/.test(i.args))).toBe(true);
    const entrypoint = runtime.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint?.args ?? '[]')).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/orchestrator']);
    expect(JSON.parse(runtime.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '[]')).toEqual(['api']);
    expect(
      runtime.some((i) => i.keyword === 'COPY' && shellWords(i.args).join(' ') === 'templates /app/templates'),
    ).toBe(true);
    expect(
      runtime.some(
        (i) => i.keyword === 'COPY' && /docker\/entrypoint\.sh \/usr\/local\/bin\/orchestrator$/.test(i.args),
      ),
    ).toBe(true);
  });

  it('uses no floating tags anywhere in docker/', () => {
    for (const file of [
      'Dockerfile',
      'docker-compose.yml',
      'docker-compose.override.yml',
      'k8s/base/api.yaml',
      'k8s/base/worker.yaml',
    ]) {
      const text = readFileSync(join(DOCKER_DIR, file), 'utf8');
      expect([file, text.match(/:latest\b/g)]).toEqual([file, null]);
    }
  });

  it('keeps host installs and builds out of the build context', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });

  it('ships valid, executable shell scripts', () => {
    for (const script of ['entrypoint.sh', 'collect-runtime.sh']) {
      const file = join(DOCKER_DIR, script);
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o111).not.toBe(0);
      const check = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
      expect([script, check.status, check.stderr]).toEqual([script, 0, '']);
    }
  });
});
