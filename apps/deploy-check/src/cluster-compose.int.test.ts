import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { interpolateDefaults, readYamlDocuments } from './deploy-files';
import { CLUSTER_VARS, configVariableNames, DOCKER_DIR, REFERENCE_VARS } from './test-deploy-config';

// Parsed compose files: read by deep paths and asserted; a static type adds nothing.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Service = any;
type ComposeFile = { services: Record<string, Service>; networks?: Service; volumes?: Record<string, unknown> };

const APP_SERVICES = ['api', 'worker', 'data-abstractor', 'ai-abstractor', 'exec-agent'];
const NODES = [0, 1, 2, 3, 4, 5].map((i) => `redis-node-${i}`);
/** What the cluster variant changes in an Orchestrator service's environment: the rest is docker-compose.yml's. */
const STANDALONE_ONLY = ['REDIS_HOST', 'REDIS_PORT', 'REDIS_DATABASE'];
const CLUSTER_ONLY = ['REDIS_CLUSTER_NODES', 'ORCHESTRATOR_PARTITIONS', 'REDIS_WAIT_REPLICAS', 'REDIS_WAIT_TIMEOUT'];

const compose = (file: string) => readYamlDocuments(join(DOCKER_DIR, file))[0] as ComposeFile;
const cluster = compose('docker-compose.cluster.yml');
const base = compose('docker-compose.yml');

function dockerCompose(args: string[], cwd = DOCKER_DIR) {
  const cli = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (cli.status !== 0)
    throw new Error(
      'docker-compose is not installed: run ./scripts/bootstrap.sh --test (apt-get install -y docker-compose)',
    );
  // No host variables: the file must stand on its defaults.
  return spawnSync('docker-compose', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
}

/** `a:b` of a compose short volume, its source. */
const volumeSources = (service: Service) => (service.volumes ?? []).map((v: string) => v.split(':')[0]);

describe('the Redis Cluster compose variant (docker-compose.cluster.yml)', () => {
  it('passes `docker-compose config` alone and with the Jaeger overlay, and a broken copy fails', () => {
    const alone = dockerCompose(['-f', 'docker-compose.cluster.yml', 'config']);
    expect([alone.status, alone.stderr]).toEqual([0, expect.any(String)]);
    const rendered = parse(alone.stdout) as ComposeFile;
    for (const name of APP_SERVICES) {
      expect(rendered.services[name].environment).toMatchObject({
        REDIS_CLUSTER_NODES: NODES.map((n) => `${n}:6379`).join(','),
        ORCHESTRATOR_PARTITIONS: '16',
      });
    }
    const jaeger = dockerCompose(['-f', 'docker-compose.cluster.yml', '-f', 'docker-compose.jaeger.yml', 'config']);
    expect([jaeger.status, jaeger.stderr]).toEqual([0, expect.any(String)]);
    expect((parse(jaeger.stdout) as ComposeFile).services.worker.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      'http://jaeger:4318',
    );
    // The same file without its init service: the others depend on a service that does not exist.
    const dir = mkdtempSync(join(tmpdir(), 'orch-cluster-compose-'));
    try {
      const broken = structuredClone(cluster);
      delete broken.services['redis-cluster-init'];
      writeFileSync(join(dir, 'docker-compose.yml'), stringify(broken));
      const result = dockerCompose(['-f', 'docker-compose.yml', 'config'], dir);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/redis-cluster-init/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs six Redis 7 cluster nodes and no single Redis', () => {
    expect(cluster.services.redis).toBeUndefined();
    const redisServices = Object.keys(cluster.services).filter((s) => s.startsWith('redis-node-'));
    expect(redisServices.sort()).toEqual(NODES);
    const conf = readFileSync(join(DOCKER_DIR, 'redis', 'cluster-node.conf'), 'utf8').replace(/^#.*\n/gm, '');
    for (const line of ['cluster-enabled yes', 'appendonly yes', 'maxmemory-policy noeviction']) {
      expect(conf).toContain(`${line}\n`);
    }
    expect(conf).toContain('cluster-preferred-endpoint-type hostname\n');
    // The README's failover cost assumes these: only the failed shard pauses, for about 5 s plus the election.
    expect(conf).toContain('cluster-require-full-coverage no\n');
    expect(conf).toContain('cluster-node-timeout 5000\n');
    const addresses = new Set<string>();
    for (const name of NODES) {
      const node = cluster.services[name];
      expect(node.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z]+)?$/);
      const command: string[] = node.command;
      expect(command.slice(0, 2)).toEqual(['redis-server', '/usr/local/etc/redis/cluster-node.conf']);
      expect(node.volumes).toContain('./redis/cluster-node.conf:/usr/local/etc/redis/cluster-node.conf:ro');
      // The name the cluster hands out to clients is the service's own, which resolves on the compose network.
      expect(command[command.indexOf('--cluster-announce-hostname') + 1]).toBe(name);
      expect(command[command.indexOf('--requirepass') + 1]).toBe('${REDIS_PASSWORD:-}');
      expect(command[command.indexOf('--masterauth') + 1]).toBe('${REDIS_PASSWORD:-}');
      // A volume of its own for the AOF and nodes.conf.
      const [data] = node.volumes.filter((v: string) => v.endsWith(':/data'));
      expect(data).toBe(`${name}-data:/data`);
      expect(cluster.volumes).toHaveProperty(`${name}-data`);
      addresses.add(interpolateDefaults(node.networks.default.ipv4_address));
      expect(node.healthcheck.test.join(' ')).toContain('ping');
    }
    // Fixed addresses, inside the subnet and outside the range other containers are given addresses from.
    const [ipam] = cluster.networks.default.ipam.config;
    const subnet = interpolateDefaults(ipam.subnet).replace(/\.0\/24$/, '.');
    const dynamic = interpolateDefaults(ipam.ip_range);
    expect(dynamic).toBe(`${subnet}128/25`);
    expect(addresses.size).toBe(6);
    for (const address of addresses) {
      expect(address.startsWith(subnet)).toBe(true);
      expect(Number(address.slice(subnet.length))).toBeLessThan(128);
    }
  });

  it('forms the cluster once with a one-shot init service, after every node is healthy', () => {
    const init = cluster.services['redis-cluster-init'];
    expect(init.image).toBe(cluster.services['redis-node-0'].image);
    expect(init.command).toEqual(['sh', '/usr/local/bin/cluster-init.sh']);
    expect(volumeSources(init)).toEqual(['./redis/cluster-init.sh']);
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual(Object.fromEntries(NODES.map((n) => [n, { condition: 'service_healthy' }])));
    expect(init.environment.REDIS_CLUSTER_NODES).toBe(NODES.map((n) => `${n}:6379`).join(','));
    expect(init.environment.REDISCLI_AUTH).toBe('${REDIS_PASSWORD:-}');
    const script = join(DOCKER_DIR, 'redis', 'cluster-init.sh');
    expect(statSync(script).mode & 0o111).not.toBe(0);
    const syntax = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
    expect([syntax.status, syntax.stderr]).toEqual([0, '']);
    expect(readFileSync(script, 'utf8')).toContain('--cluster create $nodes --cluster-replicas 1 --cluster-yes');
  });

  it('points every Orchestrator service at exactly the six nodes, starting after the init service succeeded', () => {
    const known = new Set<string>([...REFERENCE_VARS, ...configVariableNames(), ...CLUSTER_VARS]);
    for (const name of APP_SERVICES) {
      const env = cluster.services[name].environment;
      const nodes = String(env.REDIS_CLUSTER_NODES).split(',');
      expect([name, nodes.map((n) => n.replace(/:6379$/, '')).sort()]).toEqual([name, NODES]);
      expect([name, interpolateDefaults(env.ORCHESTRATOR_PARTITIONS)]).toEqual([name, '16']);
      expect([name, interpolateDefaults(env.REDIS_WAIT_REPLICAS)]).toEqual([name, '1']);
      expect([name, STANDALONE_ONLY.filter((v) => v in env)]).toEqual([name, []]);
      expect([name, Object.keys(env).filter((v) => !known.has(v))]).toEqual([name, []]);
      expect(cluster.services[name].depends_on).toEqual({
        'redis-cluster-init': { condition: 'service_completed_successfully' },
      });
    }
  });

  it("repeats docker-compose.yml's Orchestrator services but for their Redis settings and dependencies", () => {
    for (const name of APP_SERVICES) {
      const strip = (service: Service, drop: string[]) => {
        const { depends_on: _dependencies, environment, ...rest } = service;
        const env = Object.fromEntries(Object.entries(environment).filter(([k]) => !drop.includes(k)));
        return { ...rest, environment: env };
      };
      expect([name, strip(cluster.services[name], CLUSTER_ONLY)]).toEqual([
        name,
        strip(base.services[name], STANDALONE_ONLY),
      ]);
    }
    expect(
      Object.keys(cluster.services)
        .filter((s) => !(s in base.services))
        .sort(),
    ).toEqual([...NODES, 'redis-cluster-init'].sort());
  });
});
