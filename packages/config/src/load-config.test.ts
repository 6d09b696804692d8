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
