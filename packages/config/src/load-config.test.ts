import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@orch/errors';
import { loadConfig } from './load-config';

describe('loadConfig', () => {
  it('applies the reference defaults', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({
      host: 'localhost',
      port: 6379,
      username: undefined,
      password: undefined,
      db: 0,
      url: undefined,
    });
    expect(config.server.port).toBe(8080);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.maxConcurrentWorkflows).toBe(10);
    expect(config.defaultWorkflowTimeoutMs).toBe(3_600_000);
    expect(config.executionTtlMs).toBe(86_400_000);
    expect(config.recovery).toEqual({ enabled: true, intervalMs: 300_000, strategy: 'resume' });
    expect(config.templatesDir).toBe('./templates');
    expect(config.workspaceDir).toBe('/tmp/orchestrator');
    expect(config.server.apiKeys).toEqual([]);
    expect(config.workerMetricsPort).toBeUndefined();
  });

  it('parses the reference variables', () => {
    const config = loadConfig({
      REDIS_HOST: 'redis',
      REDIS_PORT: '6380',
      REDIS_PASSWORD: 's3cret',
      REDIS_DATABASE: '2',
      ORCHESTRATOR_PORT: '9090',
      MAX_CONCURRENT_WORKFLOWS: '3',
      DEFAULT_WORKFLOW_TIMEOUT: '90s',
      EXECUTION_TTL: '1h',
      RECOVERY_ENABLED: 'false',
      RECOVERY_INTERVAL: '30s',
      ORCHESTRATOR_API_KEYS: 'a, b ,',
      SERVICE_SECRET: 's'.repeat(32),
    });
    expect(config.redis).toMatchObject({ host: 'redis', port: 6380, password: 's3cret', db: 2 });
    expect(config.server.port).toBe(9090);
    expect(config.maxConcurrentWorkflows).toBe(3);
    expect(config.defaultWorkflowTimeoutMs).toBe(90_000);
    expect(config.executionTtlMs).toBe(3_600_000);
    expect(config.recovery.enabled).toBe(false);
    expect(config.recovery.intervalMs).toBe(30_000);
    expect(config.server.apiKeys).toEqual([
      { name: 'key-1', key: 'a', scopes: ['admin'] },
      { name: 'key-2', key: 'b', scopes: ['admin'] },
    ]);
  });

  it('parses the HTTP limits: JSON depth, header and request timeouts', () => {
    expect(loadConfig({}).server).toMatchObject({
      jsonMaxDepth: 128,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
    });
    const config = loadConfig({
      ORCHESTRATOR_JSON_MAX_DEPTH: '32',
      ORCHESTRATOR_HEADERS_TIMEOUT: '2s',
      ORCHESTRATOR_REQUEST_TIMEOUT: '1m',
    });
    expect(config.server).toMatchObject({ jsonMaxDepth: 32, headersTimeoutMs: 2_000, requestTimeoutMs: 60_000 });
    expect(() => loadConfig({ ORCHESTRATOR_HEADERS_TIMEOUT: '1m', ORCHESTRATOR_REQUEST_TIMEOUT: '30s' })).toThrow(
      'ORCHESTRATOR_HEADERS_TIMEOUT must not be longer than ORCHESTRATOR_REQUEST_TIMEOUT (30000 ms); got 60000 ms',
    );
    expect(() => loadConfig({ ORCHESTRATOR_REQUEST_TIMEOUT: '0s' })).toThrow(
      'ORCHESTRATOR_REQUEST_TIMEOUT must be longer than 0; got "0s"',
    );
    expect(() => loadConfig({ ORCHESTRATOR_JSON_MAX_DEPTH: '5000' })).toThrow(
      'ORCHESTRATOR_JSON_MAX_DEPTH must be <= 1000; got "5000"',
    );
  });

  it("parses the sub-workflow depth and the exit handlers' grace period, with their defaults", () => {
    expect(loadConfig({})).toMatchObject({ maxSubworkflowDepth: 20, exitGracePeriodMs: 30_000 });
    expect(loadConfig({ MAX_SUBWORKFLOW_DEPTH: '100', EXIT_GRACE_PERIOD: '2m' })).toMatchObject({
      maxSubworkflowDepth: 100,
      exitGracePeriodMs: 120_000,
    });
    expect(() => loadConfig({ MAX_SUBWORKFLOW_DEPTH: '0' })).toThrow('MAX_SUBWORKFLOW_DEPTH must be >= 1; got "0"');
    expect(() => loadConfig({ EXIT_GRACE_PERIOD: 'soon' })).toThrow('EXIT_GRACE_PERIOD must be a duration');
  });

  it('parses the http task rules, and names a bad entry', () => {
    const config = loadConfig({
      HTTP_TASK_ALLOW: '10.1.0.0/16, api.internal',
      HTTP_TASK_DENY: '*.example.com,::1',
      HTTP_TASK_SECRET_ENV: 'ORDERS_TOKEN',
    });
    expect(config.httpTask).toEqual({
      allow: { hosts: ['api.internal'], cidrs: [{ address: '10.1.0.0', prefix: 16, family: 'ipv4' }] },
      deny: { hosts: ['*.example.com'], cidrs: [{ address: '::1', prefix: 128, family: 'ipv6' }] },
      secretEnv: ['ORDERS_TOKEN'],
    });
    expect(loadConfig({}).httpTask).toEqual({
      allow: { hosts: [], cidrs: [] },
      deny: { hosts: [], cidrs: [] },
      secretEnv: [],
    });
    expect(() => loadConfig({ HTTP_TASK_ALLOW: '10.0.0.0/33', HTTP_TASK_SECRET_ENV: 'A-B' })).toThrow(
      /HTTP_TASK_SECRET_ENV "A-B" is not an environment variable name; HTTP_TASK_ALLOW entry "10.0.0.0\/33"/,
    );
  });

  it('leaves tracing off without an endpoint, and parses the OTEL_* variables and TRACE_URL_TEMPLATE', () => {
    expect(loadConfig({}).tracing).toEqual({
      endpoint: undefined,
      serviceName: undefined,
      sampler: 'parentbased_always_on',
      samplerArg: undefined,
    });
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_SERVICE_NAME: 'orch-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      TRACE_URL_TEMPLATE: 'https://ui.example/trace/{trace_id}',
    });
    expect(config.tracing).toEqual({
      endpoint: 'http://jaeger:4318',
      serviceName: 'orch-eu',
      sampler: 'parentbased_traceidratio',
      samplerArg: 0.25,
    });
    expect(config.traceUrlTemplate).toBe('https://ui.example/trace/{trace_id}');
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=abc%3D1,x-other = two=2' }).tracing.headers,
    ).toEqual({ 'x-honeycomb-team': 'abc=1', 'x-other': 'two=2' });
    // A vendor's key: a malformed value is reported by its length, never printed.
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-key-without-a-name' })).toThrow(
      'OTEL_EXPORTER_OTLP_HEADERS must match pattern',
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-key-without-a-name' })).toThrow(
      /got a value of 25 characters/,
    );
    const bad = () =>
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        TRACE_URL_TEMPLATE: 'https://ui.example/trace/',
      });
    expect(bad).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must match pattern/);
    expect(bad).toThrow(/OTEL_TRACES_SAMPLER must be equal to one of the allowed values/);
    expect(bad).toThrow(/OTEL_TRACES_SAMPLER_ARG must be <= 1/);
    expect(bad).toThrow(/TRACE_URL_TEMPLATE must match pattern/);
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.redis)).toBe(true);
  });

  it('reads TASK_LOG_MAX_BYTES, 1 MiB by default, and refuses a cap below 1 KiB', () => {
    expect(loadConfig({}).taskLogMaxBytes).toBe(1024 * 1024);
    expect(loadConfig({ TASK_LOG_MAX_BYTES: '4096' }).taskLogMaxBytes).toBe(4096);
    expect(() => loadConfig({ TASK_LOG_MAX_BYTES: '10' })).toThrow('TASK_LOG_MAX_BYTES must be >= 1024');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        REDIS_PORT: 'abc',
        EXECUTION_TTL: 'forever',
        MAX_CONCURRENT_WORKFLOWS: '0',
        WORKER_METRICS_PORT: '-1',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const { code, details, message } = error as ValidationError;
    expect(code).toBe('CONFIG_INVALID');
    expect(details.map((d) => d.pointer).sort()).toEqual([
      'EXECUTION_TTL',
      'MAX_CONCURRENT_WORKFLOWS',
      'REDIS_PORT',
      'WORKER_METRICS_PORT',
    ]);
    expect(message).toContain('REDIS_PORT must be integer; got "abc"');
    expect(message).toContain('EXECUTION_TTL must be a duration');
  });

  it('requires SERVICE_SECRET once API keys are set, and never prints a secret value', () => {
    expect(() => loadConfig({ ORCHESTRATOR_API_KEYS: 'k' })).toThrow(
      'SERVICE_SECRET is required when ORCHESTRATOR_API_KEYS is set',
    );
    let error: ValidationError | undefined;
    try {
      loadConfig({ SERVICE_SECRET: 'too-short-secret', REDIS_PORT: 'x' });
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error?.message).toContain(
      'SERVICE_SECRET must NOT have fewer than 32 characters; got a value of 16 characters',
    );
    expect(error?.message).not.toContain('too-short-secret');
    expect(loadConfig({ SERVICE_SECRET: 'x'.repeat(64) }).serviceSecret).toBe('x'.repeat(64));
  });

  it('takes an ACL user and TLS files for Redis, and refuses TLS files without TLS or unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const config = loadConfig({ REDIS_USERNAME: 'orch-api', REDIS_TLS: 'true', REDIS_TLS_CA: join(dir, 'ca.pem') });
    expect(config.redis).toMatchObject({ username: 'orch-api', tls: { ca: 'CA PEM' } });
    expect(loadConfig({ REDIS_URL: 'rediss://h:6380' }).redis.tls).toEqual({});
    expect(loadConfig({}).redis.tls).toBeUndefined();
    expect(() => loadConfig({ REDIS_TLS_CA: join(dir, 'ca.pem') })).toThrow(
      'REDIS_TLS_CA has no effect without REDIS_TLS=true or a rediss:// URL',
    );
    expect(() => loadConfig({ REDIS_TLS: 'true', REDIS_TLS_CA: join(dir, 'missing.pem') })).toThrow(
      `REDIS_TLS_CA cannot read ${join(dir, 'missing.pem')}: ENOENT`,
    );
    expect(() => loadConfig({ REDIS_TLS: 'true', REDIS_TLS_CERT: join(dir, 'ca.pem') })).toThrow(
      'REDIS_TLS_CERT and REDIS_TLS_KEY go together',
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('has sandbox defaults: no network, sandboxed, limits', () => {
    expect(loadConfig({}).exec).toEqual({
      network: 'none',
      unsandboxed: false,
      cpuSeconds: 300,
      memoryMb: 1024,
      maxProcesses: 256,
      maxFileMb: 100,
      scratchMb: 100,
      cpus: 1,
      uid: 65534,
    });
    expect(() => loadConfig({ EXEC_NETWORK: 'host' })).toThrow(
      'EXEC_NETWORK must be equal to one of the allowed values',
    );
  });
});

describe('loadConfig: Redis Cluster and partitions', () => {
  const nodes = 'redis-0:7000, 10.0.0.2:7001,[::1]:7002';

  it('defaults to one partition, no replica acks, on a standalone Redis', () => {
    const config = loadConfig({});
    expect(config.partitions).toBe(1);
    expect(config.workerPartitions).toBeUndefined();
    expect(config.replicaAcks).toEqual({ replicas: 0, timeoutMs: 200 });
    expect(config.redis.clusterNodes).toBeUndefined();
  });

  it('reads REDIS_CLUSTER_NODES, with 16 partitions and one replica ack by default', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: nodes });
    expect(config.redis.clusterNodes).toEqual([
      { host: 'redis-0', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.partitions).toBe(16);
    expect(config.replicaAcks).toEqual({ replicas: 1, timeoutMs: 200 });
    const tuned = loadConfig({
      REDIS_CLUSTER_NODES: nodes,
      ORCHESTRATOR_PARTITIONS: '64',
      REDIS_WAIT_REPLICAS: '2',
      REDIS_WAIT_TIMEOUT: '1s',
    });
    expect([tuned.partitions, tuned.replicaAcks]).toEqual([64, { replicas: 2, timeoutMs: 1000 }]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_WAIT_REPLICAS: '0' }).replicaAcks.replicas).toBe(0);
  });

  it('names each bad REDIS_CLUSTER_NODES entry, and refuses REDIS_URL or a database other than 0 with it', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b,c:99999, :7001' })).toThrow(
      'REDIS_CLUSTER_NODES must be host:port entries separated by commas; bad entries: "b", "c:99999", ":7001"',
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_URL: 'redis://x:6379' })).toThrow(
      'REDIS_URL must not be set with REDIS_CLUSTER_NODES',
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_DATABASE: '3' })).toThrow(
      'REDIS_DATABASE must be 0 with REDIS_CLUSTER_NODES (a Redis Cluster has only database 0); got 3',
    );
    expect(loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_DATABASE: '0' }).redis.db).toBe(0);
  });

  it('checks ORCHESTRATOR_PARTITIONS is 1..1024 and REDIS_WAIT_* their ranges', () => {
    expect(() => loadConfig({ ORCHESTRATOR_PARTITIONS: '0' })).toThrow('ORCHESTRATOR_PARTITIONS must be >= 1');
    expect(() => loadConfig({ ORCHESTRATOR_PARTITIONS: '1025' })).toThrow('ORCHESTRATOR_PARTITIONS must be <= 1024');
    expect(() => loadConfig({ ORCHESTRATOR_PARTITIONS: 'many' })).toThrow('ORCHESTRATOR_PARTITIONS must be integer');
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: '-1' })).toThrow('REDIS_WAIT_REPLICAS must be >= 0');
    expect(() => loadConfig({ REDIS_WAIT_TIMEOUT: 'soon' })).toThrow('REDIS_WAIT_TIMEOUT must be a duration');
    expect(() => loadConfig({ REDIS_WAIT_TIMEOUT: '0s' })).toThrow('REDIS_WAIT_TIMEOUT must be longer than 0');
    expect(loadConfig({ ORCHESTRATOR_PARTITIONS: '8' }).partitions).toBe(8);
  });

  it('reads WORKER_PARTITIONS ranges sorted and unique, and names a partition that does not exist', () => {
    const env = { ORCHESTRATOR_PARTITIONS: '16' };
    expect(loadConfig({ ...env, WORKER_PARTITIONS: '0-7' }).workerPartitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(loadConfig({ ...env, WORKER_PARTITIONS: '12-15, 8,0-3,2,8' }).workerPartitions).toEqual([
      0, 1, 2, 3, 8, 12, 13, 14, 15,
    ]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: nodes, WORKER_PARTITIONS: '15' }).workerPartitions).toEqual([15]);
    expect(() => loadConfig({ ...env, WORKER_PARTITIONS: '0-3,16,20-30' })).toThrow(
      'WORKER_PARTITIONS names 16, 20, 30, but the partitions are 0-15 (ORCHESTRATOR_PARTITIONS=16)',
    );
    expect(() => loadConfig({ WORKER_PARTITIONS: '1' })).toThrow(
      'but the partitions are 0-0 (ORCHESTRATOR_PARTITIONS=1)',
    );
    expect(() => loadConfig({ ...env, WORKER_PARTITIONS: '3-1,x,1-' })).toThrow(
      'WORKER_PARTITIONS must be partition numbers and ranges like 0-3,8,12-15; bad entries: "3-1", "x", "1-"',
    );
  });

  it('refuses braces in QUEUE_PREFIX with partitions or on a cluster (the engine adds the hash tags)', () => {
    expect(loadConfig({ QUEUE_PREFIX: '{orch}' }).queuePrefix).toBe('{orch}');
    expect(() => loadConfig({ QUEUE_PREFIX: '{orch}', ORCHESTRATOR_PARTITIONS: '4' })).toThrow(
      'QUEUE_PREFIX must not contain { or } with more than one partition',
    );
    expect(() =>
      loadConfig({ QUEUE_PREFIX: 'or{ch', REDIS_CLUSTER_NODES: nodes, ORCHESTRATOR_PARTITIONS: '1' }),
    ).toThrow('QUEUE_PREFIX must not contain { or } on a Redis Cluster');
    expect(loadConfig({ QUEUE_PREFIX: 'app', REDIS_CLUSTER_NODES: nodes }).queuePrefix).toBe('app');
  });
});
