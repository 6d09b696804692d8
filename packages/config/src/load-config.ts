import { DURATION_HINT, RECOVERY_STRATEGIES, type RecoveryStrategy, tryParseDuration } from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import { SAMPLERS, type TracingSettings } from '@orch/tracing';
import Ajv from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { type ApiKey, parseApiKeys } from './api-keys';
import { type HttpTaskSettings, parseHttpTaskSettings } from './http-task-settings';
import { type PartitionSettings, parsePartitionSettings, partitionEnvSchema } from './partition-settings';
import { readTlsFiles } from './redis-tls';

export interface ExecSettings {
  /** `none`: commands get no network at all; `allowed`: a task that sets `network: true` gets the host's. */
  network: 'none' | 'allowed';
  /** Run commands as plain local processes: trusted single user only. */
  unsandboxed: boolean;
  cpuSeconds: number;
  memoryMb: number;
  maxProcesses: number;
  maxFileMb: number;
  /** Size of the writable scratch space (the /workspace tmpfs). */
  scratchMb: number;
  /** Docker's --cpus. */
  cpus: number;
  /** The uid (and gid) commands run as when the agent itself runs as root. */
  uid: number;
}

/** Every setting, parsed once at start. Durations are milliseconds. */
export interface Config extends PartitionSettings {
  redis: {
    host: string;
    port: number;
    /** An ACL user (Redis 6+); without it AUTH uses the password alone (the `default` user). */
    username?: string;
    password?: string;
    db: number;
    url?: string;
    /** Set by REDIS_TLS=true or a `rediss://` URL: PEM contents of REDIS_TLS_CA / _CERT / _KEY when given. */
    tls?: { ca?: string; cert?: string; key?: string };
    /** REDIS_CLUSTER_NODES: a Redis Cluster's startup nodes; host/port/url/db are then unused. */
    clusterNodes?: { host: string; port: number }[];
  };
  server: {
    host: string;
    port: number;
    bodyLimit: string;
    /** Deepest nesting of `[`/`{` a JSON body or bus message may have; checked before it is parsed. */
    jsonMaxDepth: number;
    /** A request's headers must arrive within this, the whole request within `requestTimeoutMs` (else 408). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    apiKeys: ApiKey[];
    corsOrigins: string[];
    /** The longest `?wait=` a submit may hold its answer for the run's end; longer waits are cut to it. */
    maxWaitMs: number;
  };
  /**
   * Backpressure: submits are held, then refused with 429, while the backlog (waiting task jobs plus runs not yet
   * started) is above `highWater`; 0 turns it off.
   */
  backpressure: { highWater: number; holdMs: number };
  /** Signs and checks every service request and reply (HMAC-SHA256); required when API keys are set. */
  serviceSecret?: string;
  /** The exec-agent's sandbox and its limits. */
  exec: ExecSettings;
  maxConcurrentWorkflows: number;
  /** How deep sub-workflows may nest. */
  maxSubworkflowDepth: number;
  /** How long exit handlers (`on_exit`) may still run after a run is cancelled or times out. */
  exitGracePeriodMs: number;
  defaultWorkflowTimeoutMs: number;
  executionTtlMs: number;
  /** What one task attempt's log (handler lines, a command's stdout and stderr) may hold, in bytes. */
  taskLogMaxBytes: number;
  recovery: { enabled: boolean; intervalMs: number; strategy: RecoveryStrategy };
  templatesDir: string;
  workspaceDir: string;
  workerConcurrency: number;
  /** A completed task's job runs the dependents it made ready itself (WORKER_INLINE_CONTINUATION). */
  workerInlineContinuation: boolean;
  /** Recorded on every task attempt; defaults to `<hostname>:<pid>` (a pod name under Kubernetes). */
  workerName?: string;
  /** BullMQ job lock, and how often workers look for jobs whose lock expired (their worker died). */
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  /** The task queues (`queue:`) this worker takes jobs from (WORKER_QUEUES). */
  workerQueues: string[];
  /** How often a worker writes its heartbeat; it is listed as lost after three missed ones. */
  workerHeartbeatMs: number;
  /** Where a worker serves Prometheus `/metrics` (0: any free port); none when unset. */
  workerMetricsPort?: number;
  /** BullMQ's key prefix; no braces with partitions or on a cluster: the engine adds each partition's hash tag. */
  queuePrefix: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Any OpenAI-compatible endpoint; `ai` tasks with `provider: openai` and workflow generation use it. */
  openai: { baseUrl?: string; apiKey?: string; model: string; timeoutMs: number };
  generateMaxAttempts: number;
  /** Where `http` tasks may connect, and which secrets their headers may read. */
  httpTask: HttpTaskSettings;
  /** OpenTelemetry traces: off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracing: TracingSettings;
  /** A link to a trace in the operator's tracing UI, `{trace_id}` replaced (the run page shows it). */
  traceUrlTemplate?: string;
}

const durationVars = [
  'DEFAULT_WORKFLOW_TIMEOUT',
  'EXECUTION_TTL',
  'RECOVERY_INTERVAL',
  'OPENAI_TIMEOUT',
  'WORKER_LOCK_DURATION',
  'WORKER_STALLED_INTERVAL',
  'ORCHESTRATOR_HEADERS_TIMEOUT',
  'ORCHESTRATOR_REQUEST_TIMEOUT',
  'EXIT_GRACE_PERIOD',
  'WORKER_HEARTBEAT_INTERVAL',
  'ORCHESTRATOR_MAX_WAIT',
  'ORCHESTRATOR_BACKLOG_HOLD',
] as const;

/** The environment variables (names from the reference) with their defaults; ajv coerces the strings. */
const envSchema = {
  type: 'object',
  properties: {
    REDIS_HOST: { type: 'string', minLength: 1, default: 'localhost' },
    REDIS_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 6379 },
    REDIS_USERNAME: { type: 'string', minLength: 1 },
    REDIS_PASSWORD: { type: 'string' },
    REDIS_TLS: { type: 'boolean', default: false },
    REDIS_TLS_CA: { type: 'string', minLength: 1 },
    REDIS_TLS_CERT: { type: 'string', minLength: 1 },
    REDIS_TLS_KEY: { type: 'string', minLength: 1 },
    SERVICE_SECRET: { type: 'string', minLength: 32 },
    EXEC_NETWORK: { enum: ['none', 'allowed'], default: 'none' },
    EXEC_UNSANDBOXED: { type: 'boolean', default: false },
    EXEC_CPU_SECONDS: { type: 'integer', minimum: 1, default: 300 },
    EXEC_MEMORY_MB: { type: 'integer', minimum: 16, default: 1024 },
    EXEC_MAX_PROCESSES: { type: 'integer', minimum: 1, default: 256 },
    EXEC_MAX_FILE_MB: { type: 'integer', minimum: 1, default: 100 },
    EXEC_SCRATCH_MB: { type: 'integer', minimum: 1, default: 100 },
    EXEC_CPUS: { type: 'number', exclusiveMinimum: 0, default: 1 },
    EXEC_UID: { type: 'integer', minimum: 1, maximum: 4_294_967_294, default: 65534 },
    REDIS_DATABASE: { type: 'integer', minimum: 0, maximum: 15, default: 0 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    ORCHESTRATOR_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    ORCHESTRATOR_HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    ORCHESTRATOR_API_KEYS: { type: 'string', default: '' },
    ORCHESTRATOR_CORS_ORIGINS: { type: 'string', default: '' },
    ORCHESTRATOR_BODY_LIMIT: { type: 'string', pattern: '^\\d+(b|kb|mb)$', default: '1mb' },
    ORCHESTRATOR_JSON_MAX_DEPTH: { type: 'integer', minimum: 2, maximum: 1000, default: 128 },
    ORCHESTRATOR_HEADERS_TIMEOUT: { type: 'string', default: '10s' },
    ORCHESTRATOR_REQUEST_TIMEOUT: { type: 'string', default: '30s' },
    ORCHESTRATOR_MAX_WAIT: { type: 'string', default: '60s' },
    ORCHESTRATOR_BACKLOG_HIGH_WATER: { type: 'integer', minimum: 0, default: 200 },
    ORCHESTRATOR_BACKLOG_HOLD: { type: 'string', default: '5s' },
    MAX_CONCURRENT_WORKFLOWS: { type: 'integer', minimum: 1, default: 10 },
    MAX_SUBWORKFLOW_DEPTH: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    EXIT_GRACE_PERIOD: { type: 'string', default: '30s' },
    DEFAULT_WORKFLOW_TIMEOUT: { type: 'string', default: '3600s' },
    EXECUTION_TTL: { type: 'string', default: '24h' },
    TASK_LOG_MAX_BYTES: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
    RECOVERY_ENABLED: { type: 'boolean', default: true },
    RECOVERY_INTERVAL: { type: 'string', default: '5m' },
    RECOVERY_STRATEGY: { enum: [...RECOVERY_STRATEGIES], default: 'resume' },
    ORCHESTRATOR_TEMPLATES: { type: 'string', minLength: 1, default: './templates' },
    ORCHESTRATOR_WORKSPACE: { type: 'string', minLength: 1, default: '/tmp/orchestrator' },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 10_000, default: 50 },
    WORKER_NAME: { type: 'string', minLength: 1, maxLength: 100 },
    WORKER_INLINE_CONTINUATION: { type: 'boolean', default: true },
    // A killed worker's jobs run again within about 4 s (measured: bench/src/lock-stall.ts, README's Recovery).
    WORKER_LOCK_DURATION: { type: 'string', default: '4s' },
    WORKER_STALLED_INTERVAL: { type: 'string', default: '2s' },
    WORKER_METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    WORKER_QUEUES: {
      type: 'string',
      pattern: '^\\s*[a-z0-9][a-z0-9_-]{0,62}(\\s*,\\s*[a-z0-9][a-z0-9_-]{0,62})*\\s*$',
      default: 'default',
    },
    WORKER_HEARTBEAT_INTERVAL: { type: 'string', default: '5s' },
    QUEUE_PREFIX: { type: 'string', minLength: 1, pattern: '^[^:]+$', default: 'orch' },
    LOG_LEVEL: { enum: ['error', 'warn', 'info', 'debug'], default: 'info' },
    OPENAI_BASE_URL: { type: 'string', pattern: '^https?://' },
    OPENAI_API_KEY: { type: 'string' },
    OPENAI_MODEL: { type: 'string', minLength: 1, default: 'gpt-4o-mini' },
    OPENAI_TIMEOUT: { type: 'string', default: '60s' },
    GENERATE_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
    HTTP_TASK_ALLOW: { type: 'string' },
    HTTP_TASK_DENY: { type: 'string' },
    HTTP_TASK_SECRET_ENV: { type: 'string' },
    OTEL_EXPORTER_OTLP_ENDPOINT: { type: 'string', pattern: '^https?://[^\\s]+$' },
    OTEL_EXPORTER_OTLP_HEADERS: { type: 'string', pattern: '^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$' },
    OTEL_SERVICE_NAME: { type: 'string', minLength: 1, maxLength: 200 },
    OTEL_TRACES_SAMPLER: { enum: [...SAMPLERS], default: 'parentbased_always_on' },
    OTEL_TRACES_SAMPLER_ARG: { type: 'number', minimum: 0, maximum: 1 },
    TRACE_URL_TEMPLATE: { type: 'string', pattern: '^https?://[^\\s]*\\{trace_id\\}' },
    ...partitionEnvSchema,
  },
} as const;

/** Their values never appear in an error message. */
const SECRET_VARS = new Set([
  'REDIS_PASSWORD',
  'SERVICE_SECRET',
  'ORCHESTRATOR_API_KEYS',
  'OPENAI_API_KEY',
  'OTEL_EXPORTER_OTLP_HEADERS',
]);

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
  const errors: ErrorDetail[] = [];
  const valid = check(raw);
  for (const e of valid ? [] : (check.errors ?? [])) {
    const name = e.instancePath.slice(1);
    const got = SECRET_VARS.has(name) ? `a value of ${env[name]?.length ?? 0} characters` : JSON.stringify(env[name]);
    errors.push({ pointer: name, message: `${e.message}; got ${got}` });
  }
  const ms: Record<string, number> = {};
  for (const name of durationVars) {
    const parsed = tryParseDuration(raw[name]);
    if (parsed === undefined)
      errors.push({ pointer: name, message: `must be ${DURATION_HINT}; got ${JSON.stringify(env[name])}` });
    else ms[name] = parsed;
  }
  errors.push(...httpTimeoutErrors(ms, env));
  const apiKeys = parseApiKeys(String(raw.ORCHESTRATOR_API_KEYS ?? ''));
  errors.push(...apiKeys.errors);
  if (apiKeys.keys.length > 0 && raw.SERVICE_SECRET === undefined) {
    errors.push({
      pointer: 'SERVICE_SECRET',
      message:
        'is required when ORCHESTRATOR_API_KEYS is set: it signs the requests to the data, ai and exec services (openssl rand -hex 32; the same value for every process)',
    });
  }
  const tls = readTlsFiles(raw, errors);
  const { clusterNodes, ...partitionSettings } = parsePartitionSettings(raw as Env, errors);
  const httpTask = parseHttpTaskSettings(
    { allow: env.HTTP_TASK_ALLOW, deny: env.HTTP_TASK_DENY, secretEnv: env.HTTP_TASK_SECRET_ENV },
    errors,
  );
  if (!valid || errors.length > 0) {
    throw new ValidationError(
      `invalid configuration: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
      errors,
      { code: 'CONFIG_INVALID' },
    );
  }
  const config = toConfig(raw, (name) => ms[name] ?? 0, apiKeys.keys, tls);
  if (clusterNodes) config.redis.clusterNodes = clusterNodes;
  return deepFreeze({ ...config, ...partitionSettings, httpTask });
}

/** A comma-separated list's items, trimmed, empty ones dropped. */
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The checked environment as the settings the processes use. */
function toConfig(
  raw: Env,
  ms: (name: (typeof durationVars)[number]) => number,
  apiKeys: ApiKey[],
  tls: { ca?: string; cert?: string; key?: string } | undefined,
): Omit<Config, 'httpTask' | keyof PartitionSettings> {
  return {
    redis: {
      host: raw.REDIS_HOST,
      port: raw.REDIS_PORT,
      username: raw.REDIS_USERNAME,
      password: raw.REDIS_PASSWORD,
      db: raw.REDIS_DATABASE,
      url: raw.REDIS_URL,
      ...(tls ? { tls } : {}),
    },
    server: {
      host: raw.ORCHESTRATOR_HOST,
      port: raw.ORCHESTRATOR_PORT,
      bodyLimit: raw.ORCHESTRATOR_BODY_LIMIT,
      jsonMaxDepth: raw.ORCHESTRATOR_JSON_MAX_DEPTH,
      headersTimeoutMs: ms('ORCHESTRATOR_HEADERS_TIMEOUT'),
      requestTimeoutMs: ms('ORCHESTRATOR_REQUEST_TIMEOUT'),
      apiKeys,
      corsOrigins: list(raw.ORCHESTRATOR_CORS_ORIGINS),
      maxWaitMs: ms('ORCHESTRATOR_MAX_WAIT'),
    },
    backpressure: { highWater: raw.ORCHESTRATOR_BACKLOG_HIGH_WATER, holdMs: ms('ORCHESTRATOR_BACKLOG_HOLD') },
    serviceSecret: raw.SERVICE_SECRET,
    exec: {
      network: raw.EXEC_NETWORK,
      unsandboxed: raw.EXEC_UNSANDBOXED,
      cpuSeconds: raw.EXEC_CPU_SECONDS,
      memoryMb: raw.EXEC_MEMORY_MB,
      maxProcesses: raw.EXEC_MAX_PROCESSES,
      maxFileMb: raw.EXEC_MAX_FILE_MB,
      scratchMb: raw.EXEC_SCRATCH_MB,
      cpus: raw.EXEC_CPUS,
      uid: raw.EXEC_UID,
    },
    maxConcurrentWorkflows: raw.MAX_CONCURRENT_WORKFLOWS,
    maxSubworkflowDepth: raw.MAX_SUBWORKFLOW_DEPTH,
    exitGracePeriodMs: ms('EXIT_GRACE_PERIOD'),
    defaultWorkflowTimeoutMs: ms('DEFAULT_WORKFLOW_TIMEOUT'),
    executionTtlMs: ms('EXECUTION_TTL'),
    taskLogMaxBytes: raw.TASK_LOG_MAX_BYTES,
    recovery: { enabled: raw.RECOVERY_ENABLED, intervalMs: ms('RECOVERY_INTERVAL'), strategy: raw.RECOVERY_STRATEGY },
    templatesDir: raw.ORCHESTRATOR_TEMPLATES,
    workspaceDir: raw.ORCHESTRATOR_WORKSPACE,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    workerInlineContinuation: raw.WORKER_INLINE_CONTINUATION,
    workerName: raw.WORKER_NAME,
    workerLockDurationMs: ms('WORKER_LOCK_DURATION'),
    workerStalledIntervalMs: ms('WORKER_STALLED_INTERVAL'),
    workerQueues: [...new Set(list(raw.WORKER_QUEUES))],
    workerHeartbeatMs: Math.max(100, ms('WORKER_HEARTBEAT_INTERVAL')),
    workerMetricsPort: raw.WORKER_METRICS_PORT,
    queuePrefix: raw.QUEUE_PREFIX,
    logLevel: raw.LOG_LEVEL,
    openai: {
      baseUrl: raw.OPENAI_BASE_URL,
      apiKey: raw.OPENAI_API_KEY,
      model: raw.OPENAI_MODEL,
      timeoutMs: ms('OPENAI_TIMEOUT'),
    },
    generateMaxAttempts: raw.GENERATE_MAX_ATTEMPTS,
    tracing: {
      endpoint: raw.OTEL_EXPORTER_OTLP_ENDPOINT,
      ...(raw.OTEL_EXPORTER_OTLP_HEADERS ? { headers: otlpHeaders(raw.OTEL_EXPORTER_OTLP_HEADERS) } : {}),
      serviceName: raw.OTEL_SERVICE_NAME,
      sampler: raw.OTEL_TRACES_SAMPLER,
      samplerArg: raw.OTEL_TRACES_SAMPLER_ARG,
    },
    traceUrlTemplate: raw.TRACE_URL_TEMPLATE,
  };
}

/** `key=value,key2=value2` with URL-encoded values (the OpenTelemetry spec's format), as a header map. */
function otlpHeaders(text: string): Record<string, string> {
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value; // not URL-encoded after all: taken as written
    }
  };
  const pairs = text.split(',').map((pair) => pair.split('=') as [string, ...string[]]);
  return Object.fromEntries(pairs.map(([key, ...value]) => [key.trim(), decode(value.join('=').trim())]));
}

/** Node refuses a headers timeout above the request timeout, and 0 would turn the timeout off. */
function httpTimeoutErrors(
  ms: Record<string, number>,
  env: Readonly<Record<string, string | undefined>>,
): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  for (const name of ['ORCHESTRATOR_HEADERS_TIMEOUT', 'ORCHESTRATOR_REQUEST_TIMEOUT']) {
    if (ms[name] === 0)
      errors.push({ pointer: name, message: `must be longer than 0; got ${JSON.stringify(env[name])}` });
  }
  const headers = ms.ORCHESTRATOR_HEADERS_TIMEOUT;
  const request = ms.ORCHESTRATOR_REQUEST_TIMEOUT;
  if (headers !== undefined && request !== undefined && headers > request) {
    errors.push({
      pointer: 'ORCHESTRATOR_HEADERS_TIMEOUT',
      message: `must not be longer than ORCHESTRATOR_REQUEST_TIMEOUT (${request} ms); got ${headers} ms`,
    });
  }
  return errors;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
