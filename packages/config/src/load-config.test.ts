import { ValidationError } from '@orch/errors';
import { loadConfig } from './load-config';

describe('loadConfig', () => {
  it('applies the reference defaults', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ host: 'localhost', port: 6379, password: undefined, db: 0, url: undefined });
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
      WORKER_METRICS_PORT: '9464',
    });
    expect(config.workerMetricsPort).toBe(9464);
    expect(config.redis).toMatchObject({ host: 'redis', port: 6380, password: 's3cret', db: 2 });
    expect(config.server.port).toBe(9090);
    expect(config.maxConcurrentWorkflows).toBe(3);
    expect(config.defaultWorkflowTimeoutMs).toBe(90_000);
    expect(config.executionTtlMs).toBe(3_600_000);
    expect(config.recovery.enabled).toBe(false);
    expect(config.recovery.intervalMs).toBe(30_000);
    expect(config.server.apiKeys).toEqual(['a', 'b']);
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.redis)).toBe(true);
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
});
