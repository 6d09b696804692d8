import { MAX_WORKFLOW_DEPTH } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { RedisKeys, watchConnection } from '@orch/redis';
import type { Redis } from 'ioredis';
import { EngineQueues } from './engine-queues';
import { RunIndex } from './run-index';
import { START_GRACE_MS } from './run-layout';
import { RunStore } from './run-store';
import { ttlSecondsOf } from './task-job';
import { TaskLogStore } from './task-log-store';
import { TaskTypeRegistry } from './task-type-registry';
import { WorkerRegistry } from './worker-registry';

export interface EngineOptions {
  /** Used for the engine's own commands; the caller owns it. */
  connection: Redis;
  /** BullMQ's key prefix, and the prefix of the engine's own keys. */
  prefix?: string;
  maxConcurrentWorkflows: number;
  executionTtlMs: number;
  defaultWorkflowTimeoutMs: number;
  /** How deep sub-workflows may nest (`MAX_SUBWORKFLOW_DEPTH`); default 20. */
  maxSubworkflowDepth?: number;
  /** How long exit handlers may run after a cancel or a timeout (`EXIT_GRACE_PERIOD`); default 30 s. */
  exitGraceMs?: number;
  /** What one task attempt's log may hold (`TASK_LOG_MAX_BYTES`); default 1 MiB. */
  taskLogMaxBytes?: number;
  /** An admitted run whose first jobs no worker has seen queued this long after is started by the workers' sweep. */
  startGraceMs?: number;
  logger?: Logger;
  /** When set, the engine's BullMQ client's connection state is logged under this name (`watchConnection`). */
  bullConnectionName?: string;
}

/** The limits every part of the engine applies alike. */
export interface EngineLimits {
  maxConcurrentWorkflows: number;
  executionTtlMs: number;
  defaultWorkflowTimeoutMs: number;
  /** `executionTtlMs` in seconds, BullMQ's unit for keeping finished jobs. */
  ttlSeconds: number;
  maxSubworkflowDepth: number;
  exitGraceMs: number;
  startGraceMs: number;
}

/** A task attempt's log holds this much unless `TASK_LOG_MAX_BYTES` says otherwise. */
export const TASK_LOG_MAX_BYTES = 1024 * 1024;

/** Exit handlers get this long after a cancel or a timeout unless `EXIT_GRACE_PERIOD` says otherwise. */
export const EXIT_GRACE_MS = 30_000;

/**
 * What the engine's parts share, built once per engine: the run store (the only owner of run keys), the run index,
 * the queues (created only here), the limits and the logger. Internal to the package: apps see the facade.
 */
export interface EngineContext {
  store: RunStore;
  /** Task attempts' logs (`ctx.log`, a command's output). */
  logs: TaskLogStore;
  index: RunIndex;
  queues: EngineQueues;
  limits: EngineLimits;
  logger: Logger;
  /** Pub/sub channels: abort (workers stop a run's tasks) and finished (one message per ended run). */
  channels: { abort: string; finished: string };
  /** For the schedule manager's own (global, non-run) keys. */
  redis: Redis;
  keys: RedisKeys;
  /** The workers' heartbeats (`/api/v1/workers`, and which task queues are served). */
  workers: WorkerRegistry;
  /** The task types SDK workers registered. */
  taskTypes: TaskTypeRegistry;
}

export function createEngineContext(options: EngineOptions): EngineContext {
  const prefix = options.prefix ?? 'orch';
  const keys = new RedisKeys(prefix);
  const logger = options.logger ?? silentLogger();
  // BullMQ gets its own client: ioredis copies every script defined on a client into each pipeline it makes, and
  // BullMQ defines about 60, which cost the engine's own pipelines ~10% CPU when they shared one.
  const bull = options.connection.duplicate();
  if (options.bullConnectionName) watchConnection(bull, logger, options.bullConnectionName);
  const store = new RunStore(options.connection, keys);
  return {
    store,
    logs: new TaskLogStore(options.connection, keys, store.scripts, options.taskLogMaxBytes ?? TASK_LOG_MAX_BYTES),
    index: new RunIndex(options.connection, keys),
    queues: new EngineQueues(bull, options.connection, prefix, logger),
    limits: {
      maxConcurrentWorkflows: options.maxConcurrentWorkflows,
      executionTtlMs: options.executionTtlMs,
      defaultWorkflowTimeoutMs: options.defaultWorkflowTimeoutMs,
      ttlSeconds: ttlSecondsOf(options.executionTtlMs),
      maxSubworkflowDepth: options.maxSubworkflowDepth ?? MAX_WORKFLOW_DEPTH,
      exitGraceMs: options.exitGraceMs ?? EXIT_GRACE_MS,
      startGraceMs: options.startGraceMs ?? START_GRACE_MS,
    },
    logger,
    channels: { abort: keys.abortChannel(), finished: keys.finishedChannel() },
    redis: options.connection,
    keys,
    workers: new WorkerRegistry(options.connection, keys),
    taskTypes: new TaskTypeRegistry(options.connection, keys, logger),
  };
}
