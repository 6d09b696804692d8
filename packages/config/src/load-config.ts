import { DURATION_HINT, RECOVERY_STRATEGIES, type RecoveryStrategy, tryParseDuration } from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import Ajv from 'ajv';

/** Every setting, parsed once at start. Durations are milliseconds. */
export interface Config {
  redis: { host: string; port: number; password?: string; db: number; url?: string };
  server: { host: string; port: number; bodyLimit: string; apiKeys: string[]; corsOrigins: string[] };
  maxConcurrentWorkflows: number;
  defaultWorkflowTimeoutMs: number;
  executionTtlMs: number;
  recovery: { enabled: boolean; intervalMs: number; strategy: RecoveryStrategy };
  templatesDir: string;
  workspaceDir: string;
  workerConcurrency: number;
  /** Recorded on every task attempt; defaults to `<hostname>:<pid>` (a pod name under Kubernetes). */
  workerName?: string;
  /** BullMQ job lock, and how often workers look for jobs whose lock expired (their worker died). */
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  /** Where a worker serves Prometheus `/metrics` (0: any free port); none when unset. */
  workerMetricsPort?: number;
  /** BullMQ's key prefix; wrap it in braces (`{orch}`) on Redis Cluster so a queue's keys share a slot. */
  queuePrefix: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Any OpenAI-compatible endpoint; `ai` tasks with `provider: openai` and workflow generation use it. */
  openai: { baseUrl?: string; apiKey?: string; model: string; timeoutMs: number };
  generateMaxAttempts: number;
}

const durationVars = [
  'DEFAULT_WORKFLOW_TIMEOUT',
  'EXECUTION_TTL',
  'RECOVERY_INTERVAL',
  'OPENAI_TIMEOUT',
  'WORKER_LOCK_DURATION',
  'WORKER_STALLED_INTERVAL',
] as const;

/** The environment variables (names from the reference) with their defaults; ajv coerces the strings. */
const envSchema = {
  type: 'object',
  properties: {
    REDIS_HOST: { type: 'string', minLength: 1, default: 'localhost' },
    REDIS_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 6379 },
    REDIS_PASSWORD: { type: 'string' },
    REDIS_DATABASE: { type: 'integer', minimum: 0, maximum: 15, default: 0 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    ORCHESTRATOR_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    ORCHESTRATOR_HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    ORCHESTRATOR_API_KEYS: { type: 'string', default: '' },
    ORCHESTRATOR_CORS_ORIGINS: { type: 'string', default: '' },
    ORCHESTRATOR_BODY_LIMIT: { type: 'string', pattern: '^\\d+(b|kb|mb)$', default: '1mb' },
    MAX_CONCURRENT_WORKFLOWS: { type: 'integer', minimum: 1, default: 10 },
    DEFAULT_WORKFLOW_TIMEOUT: { type: 'string', default: '3600s' },
    EXECUTION_TTL: { type: 'string', default: '24h' },
    RECOVERY_ENABLED: { type: 'boolean', default: true },
    RECOVERY_INTERVAL: { type: 'string', default: '5m' },
    RECOVERY_STRATEGY: { enum: [...RECOVERY_STRATEGIES], default: 'resume' },
    ORCHESTRATOR_TEMPLATES: { type: 'string', minLength: 1, default: './templates' },
    ORCHESTRATOR_WORKSPACE: { type: 'string', minLength: 1, default: '/tmp/orchestrator' },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 10_000, default: 50 },
    WORKER_NAME: { type: 'string', minLength: 1, maxLength: 100 },
    WORKER_LOCK_DURATION: { type: 'string', default: '30s' },
    WORKER_STALLED_INTERVAL: { type: 'string', default: '15s' },
    WORKER_METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    QUEUE_PREFIX: { type: 'string', minLength: 1, pattern: '^[^:]+$', default: 'orch' },
    LOG_LEVEL: { enum: ['error', 'warn', 'info', 'debug'], default: 'info' },
    OPENAI_BASE_URL: { type: 'string', pattern: '^https?://' },
    OPENAI_API_KEY: { type: 'string' },
    OPENAI_MODEL: { type: 'string', minLength: 1, default: 'gpt-4o-mini' },
    OPENAI_TIMEOUT: { type: 'string', default: '60s' },
    GENERATE_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const check = ajv.compile(envSchema);

/**
 * Parses the environment into a frozen Config. The env is a parameter so tests and tools pass their own.
 * Throws a ValidationError naming each bad variable; `main()`s print it and exit.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Readonly<Config> {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(envSchema.properties)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const errors: ErrorDetail[] = [];
  if (!check(raw)) {
    for (const e of check.errors ?? []) {
      const name = e.instancePath.slice(1);
      errors.push({ pointer: name, message: `${e.message}; got ${JSON.stringify(env[name])}` });
    }
  }
  const ms: Record<string, number> = {};
  for (const name of durationVars) {
    const parsed = tryParseDuration(raw[name]);
    if (parsed === undefined)
      errors.push({ pointer: name, message: `must be ${DURATION_HINT}; got ${JSON.stringify(env[name])}` });
    else ms[name] = parsed;
  }
  if (errors.length > 0) {
    throw new ValidationError(
      `invalid configuration: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
      errors,
      { code: 'CONFIG_INVALID' },
    );
  }
  const list = (v: unknown) =>
    String(v)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const config: Config = {
    redis: {
      host: raw.REDIS_HOST as string,
      port: raw.REDIS_PORT as number,
      password: raw.REDIS_PASSWORD as string | undefined,
      db: raw.REDIS_DATABASE as number,
      url: raw.REDIS_URL as string | undefined,
    },
    server: {
      host: raw.ORCHESTRATOR_HOST as string,
      port: raw.ORCHESTRATOR_PORT as number,
      bodyLimit: raw.ORCHESTRATOR_BODY_LIMIT as string,
      apiKeys: list(raw.ORCHESTRATOR_API_KEYS),
      corsOrigins: list(raw.ORCHESTRATOR_CORS_ORIGINS),
    },
    maxConcurrentWorkflows: raw.MAX_CONCURRENT_WORKFLOWS as number,
    defaultWorkflowTimeoutMs: ms.DEFAULT_WORKFLOW_TIMEOUT as number,
    executionTtlMs: ms.EXECUTION_TTL as number,
    recovery: {
      enabled: raw.RECOVERY_ENABLED as boolean,
      intervalMs: ms.RECOVERY_INTERVAL as number,
      strategy: raw.RECOVERY_STRATEGY as RecoveryStrategy,
    },
    templatesDir: raw.ORCHESTRATOR_TEMPLATES as string,
    workspaceDir: raw.ORCHESTRATOR_WORKSPACE as string,
    workerConcurrency: raw.WORKER_CONCURRENCY as number,
    workerName: raw.WORKER_NAME as string | undefined,
    workerLockDurationMs: ms.WORKER_LOCK_DURATION as number,
    workerStalledIntervalMs: ms.WORKER_STALLED_INTERVAL as number,
    workerMetricsPort: raw.WORKER_METRICS_PORT as number | undefined,
    queuePrefix: raw.QUEUE_PREFIX as string,
    logLevel: raw.LOG_LEVEL as Config['logLevel'],
    openai: {
      baseUrl: raw.OPENAI_BASE_URL as string | undefined,
      apiKey: raw.OPENAI_API_KEY as string | undefined,
      model: raw.OPENAI_MODEL as string,
      timeoutMs: ms.OPENAI_TIMEOUT as number,
    },
    generateMaxAttempts: raw.GENERATE_MAX_ATTEMPTS as number,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
