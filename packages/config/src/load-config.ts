import { DURATION_HINT, RECOVERY_STRATEGIES, type RecoveryStrategy, tryParseDuration } from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import Ajv from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';

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
    QUEUE_PREFIX: { type: 'string', minLength: 1, pattern: '^[^:]+$', default: 'orch' },
    LOG_LEVEL: { enum: ['error', 'warn', 'info', 'debug'], default: 'info' },
    OPENAI_BASE_URL: { type: 'string', pattern: '^https?://' },
    OPENAI_API_KEY: { type: 'string' },
    OPENAI_MODEL: { type: 'string', minLength: 1, default: 'gpt-4o-mini' },
    OPENAI_TIMEOUT: { type: 'string', default: '60s' },
    GENERATE_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
  },
} as const;

/** The environment as the schema reads it: coerced, defaults filled in (so every defaulted variable is there). */
type Env = FromSchema<typeof envSchema>;

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const check = ajv.compile<Env>(envSchema);

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
  const valid = check(raw);
  const errors: ErrorDetail[] = [];
  for (const e of valid ? [] : (check.errors ?? [])) {
    const name = e.instancePath.slice(1);
    errors.push({ pointer: name, message: `${e.message}; got ${JSON.stringify(env[name])}` });
  }
  const ms = new Map<(typeof durationVars)[number], number>();
  for (const name of durationVars) {
    const parsed = tryParseDuration(raw[name]);
    if (parsed === undefined)
      errors.push({ pointer: name, message: `must be ${DURATION_HINT}; got ${JSON.stringify(env[name])}` });
    else ms.set(name, parsed);
  }
  if (!valid || errors.length > 0) {
    throw new ValidationError(
      `invalid configuration: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
      errors,
      { code: 'CONFIG_INVALID' },
    );
  }
  return deepFreeze(toConfig(raw, (name) => ms.get(name) ?? 0));
}

/** The checked environment as the settings the processes use. */
function toConfig(raw: Env, ms: (name: (typeof durationVars)[number]) => number): Config {
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    redis: {
      host: raw.REDIS_HOST,
      port: raw.REDIS_PORT,
      password: raw.REDIS_PASSWORD,
      db: raw.REDIS_DATABASE,
      url: raw.REDIS_URL,
    },
    server: {
      host: raw.ORCHESTRATOR_HOST,
      port: raw.ORCHESTRATOR_PORT,
      bodyLimit: raw.ORCHESTRATOR_BODY_LIMIT,
      apiKeys: list(raw.ORCHESTRATOR_API_KEYS),
      corsOrigins: list(raw.ORCHESTRATOR_CORS_ORIGINS),
    },
    maxConcurrentWorkflows: raw.MAX_CONCURRENT_WORKFLOWS,
    defaultWorkflowTimeoutMs: ms('DEFAULT_WORKFLOW_TIMEOUT'),
    executionTtlMs: ms('EXECUTION_TTL'),
    recovery: { enabled: raw.RECOVERY_ENABLED, intervalMs: ms('RECOVERY_INTERVAL'), strategy: raw.RECOVERY_STRATEGY },
    templatesDir: raw.ORCHESTRATOR_TEMPLATES,
    workspaceDir: raw.ORCHESTRATOR_WORKSPACE,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    workerName: raw.WORKER_NAME,
    workerLockDurationMs: ms('WORKER_LOCK_DURATION'),
    workerStalledIntervalMs: ms('WORKER_STALLED_INTERVAL'),
    queuePrefix: raw.QUEUE_PREFIX,
    logLevel: raw.LOG_LEVEL,
    openai: {
      baseUrl: raw.OPENAI_BASE_URL,
      apiKey: raw.OPENAI_API_KEY,
      model: raw.OPENAI_MODEL,
      timeoutMs: ms('OPENAI_TIMEOUT'),
    },
    generateMaxAttempts: raw.GENERATE_MAX_ATTEMPTS,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
