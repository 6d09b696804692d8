import { MAX_WORKFLOW_DEPTH } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { isCluster, Partitions, type RedisClient, RedisKeys, watchConnection } from '@orch/redis';
import { EngineQueues } from './engine-queues';
import type { RunClaim } from './execution-definition';
import { RunIndex } from './run-index';
import { START_GRACE_MS } from './run-layout';
import { RunStore } from './run-store';
import { ttlSecondsOf } from './task-job';
import { TaskLogStore } from './task-log-store';
import { TaskTypeRegistry } from './task-type-registry';
import { WorkerRegistry } from './worker-registry';

export interface EngineOptions {
  /** Used for the engine's own commands; the caller owns it. A standalone client or a Redis Cluster client. */
  connection: RedisClient;
  /** BullMQ's key prefix, and the prefix of the engine's own keys. */
  prefix?: string;
  /** How many partitions runs are spread over (ORCHESTRATOR_PARTITIONS); default 1. Fixed for a deployment. */
  partitions?: number;
  /** The connection is a Redis Cluster client: keys are partition-tagged even with one partition. */
  cluster?: boolean;
  /**
   * Replicas that must hold a new run before submit returns (Redis WAIT), so a failover cannot lose an acknowledged
   * run; none by default (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT).
   */
  replicaAcks?: { replicas: number; timeoutMs: number };
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
  /** This partition's share of MAX_CONCURRENT_WORKFLOWS (all of it with one partition; see `shareOf`). */
  maxConcurrentWorkflows: number;
  executionTtlMs: number;
  defaultWorkflowTimeoutMs: number;
  /** `executionTtlMs` in seconds, BullMQ's unit for keeping finished jobs. */
  ttlSeconds: number;
  maxSubworkflowDepth: number;
  exitGraceMs: number;
  startGraceMs: number;
  replicaAcks?: { replicas: number; timeoutMs: number };
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
  /** This context's partition, and the deployment's partitions. */
  partition: number;
  partitions: Partitions;
  /** The context of the partition that holds run `executionId` (this one or another): for steps between runs. */
  peer(executionId: string): EngineContext;
  /**
   * The context a new run goes to: its claim's partition (so claim and run share a slot), else its given id's,
   * else one at random.
   */
  placement(options: { claim?: RunClaim; executionId?: string }): EngineContext;
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
  redis: RedisClient;
  keys: RedisKeys;
  /** The workers' heartbeats (`/api/v1/workers`, and which task queues are served). */
  workers: WorkerRegistry;
  /** The task types SDK workers registered. */
  taskTypes: TaskTypeRegistry;
}

/** The partition's share of a deployment-wide limit: rounded up, so the total is at least the limit. */
export function shareOf(limit: number, partitions: number): number {
  return Math.max(1, Math.ceil(limit / partitions));
}

/** The claim's identity, the same string in every process: what places a claimed run. */
export function claimName(claim: RunClaim): string {
  return claim.space === 'client' ? `c:${claim.submitter ?? ''}:${claim.id}` : `${claim.space}:${claim.id}`;
}

/**
 * One context per partition, built once per engine. They share the caller's connection, one BullMQ client (see
 * below), the registries and the limits; each has its own keys, store, index and queues.
 */
export function createEngineContexts(options: EngineOptions): { contexts: EngineContext[]; bull: RedisClient } {
  const prefix = options.prefix ?? 'orch';
  // A cluster client needs tagged keys whatever it was told: untagged ones would span slots.
  const onCluster = options.cluster === true || isCluster(options.connection);
  const partitions = new Partitions(options.partitions ?? 1, onCluster || (options.partitions ?? 1) > 1);
  const logger = options.logger ?? silentLogger();
  // BullMQ gets its own client: ioredis copies every script defined on a client into each pipeline it makes, and
  // BullMQ defines about 60, which cost the engine's own pipelines ~10% CPU when they shared one.
  const bull = options.connection.duplicate();
  if (options.bullConnectionName) watchConnection(bull, logger, options.bullConnectionName);
  // Every partition's queues, flow producer and workers listen on this one client.
  bull.setMaxListeners(0);
  bull.on('error', (error: Error) => logger.debug('queue connection error', { error: error.message }));
  const shared = new RedisKeys(prefix);
  const workers = new WorkerRegistry(options.connection, shared);
  const taskTypes = new TaskTypeRegistry(options.connection, shared, logger);
  const limits: EngineLimits = {
    maxConcurrentWorkflows: shareOf(options.maxConcurrentWorkflows, partitions.count),
    executionTtlMs: options.executionTtlMs,
    defaultWorkflowTimeoutMs: options.defaultWorkflowTimeoutMs,
    ttlSeconds: ttlSecondsOf(options.executionTtlMs),
    maxSubworkflowDepth: options.maxSubworkflowDepth ?? MAX_WORKFLOW_DEPTH,
    exitGraceMs: options.exitGraceMs ?? EXIT_GRACE_MS,
    startGraceMs: options.startGraceMs ?? START_GRACE_MS,
    ...(options.replicaAcks?.replicas ? { replicaAcks: options.replicaAcks } : {}),
  };
  const contexts: EngineContext[] = partitions.all().map((partition) => {
    const keys = new RedisKeys(prefix, partitions.tag(partition));
    const store = new RunStore(options.connection, keys, limits.replicaAcks);
    return {
      partition,
      partitions,
      peer: (id: string) => contexts[partitions.ofId(id)] as EngineContext,
      placement: ({ claim, executionId }) =>
        contexts[
          claim ? partitions.ofName(claimName(claim)) : executionId ? partitions.ofId(executionId) : partitions.random()
        ] as EngineContext,
      store,
      logs: new TaskLogStore(options.connection, keys, store.scripts, options.taskLogMaxBytes ?? TASK_LOG_MAX_BYTES),
      index: new RunIndex(options.connection, keys),
      queues: new EngineQueues(bull, options.connection, keys.bullPrefix, logger),
      limits,
      logger,
      channels: { abort: keys.abortChannel(), finished: keys.finishedChannel() },
      redis: options.connection,
      keys,
      workers,
      taskTypes,
    };
  });
  return { contexts, bull };
}
