import { hostname } from 'node:os';
import { addExternalTaskTypes, ajv, type ExternalTaskTypeSpec, formatAjvErrors, SERVICE_TASK_TYPES } from '@orch/core';
import { EngineWorker, type TaskHandler, type TaskHandlers, WorkflowEngine } from '@orch/engine';
import { PermanentTaskError } from '@orch/errors';
import { createLogger, type Logger } from '@orch/logger';
import { closeConnection, createRedisClient, type RedisSettings } from '@orch/redis';
import type { TaskDefinition } from './define-task';
import { sdkContext } from './task-context';

const VERSION: string = (require('../package.json') as { version: string }).version;

export interface StartWorkerOptions {
  /** `redis://user:pass@host:6379/0` (or `rediss://`), or host, port and credentials. */
  redis: string | Partial<RedisSettings>;
  tasks: readonly TaskDefinition<never, unknown>[];
  /** The task queue of every task type here that names none (default: each type's own name). */
  queue?: string;
  /** Task jobs run at once, per queue (default 10). */
  concurrency?: number;
  /** Shown in `orchestrator workers` and on each attempt (default `<hostname>:<pid>`). */
  name?: string;
  /** The deployment's QUEUE_PREFIX (default `orch`). */
  prefix?: string;
  /**
   * The deployment's ORCHESTRATOR_PARTITIONS (default 1); with `redis.clusterNodes` set, the worker talks to a Redis
   * Cluster. Both must match the deployment's, or the worker looks for jobs where there are none.
   */
  partitions?: number;
  logger?: Logger;
  /** BullMQ's job lock and stall check: a killed worker's job moves to another after about their sum. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  heartbeatMs?: number;
}

export interface RunningWorker {
  readonly name: string;
  /** The queues it takes jobs from. */
  readonly queues: readonly string[];
  /** Stops taking jobs, lets running ones finish, takes itself out of the workers list, closes Redis. Idempotent. */
  close(): Promise<void>;
}

/**
 * Registers the task types (in this process and in Redis, with this worker's name) and runs their tasks through
 * the engine's own task runner: the same start and completion records, events, retries, timeouts and aborts as the
 * built-in types. It runs no workflow or control jobs; the stock workers end runs and run schedules and recovery.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const logger = options.logger ?? createLogger({ defaults: { service: 'sdk-worker', worker: name } });
  const specs = options.tasks.map(
    (task): ExternalTaskTypeSpec => ({
      name: task.name,
      ...(task.description ? { description: task.description } : {}),
      parameters: task.parameters,
      ...(task.output ? { output: task.output } : {}),
      queue: task.queue ?? options.queue ?? task.name,
      worker: name,
      registered_at: new Date().toISOString(),
    }),
  );
  addExternalTaskTypes(specs);
  const settings = redisSettings(options.redis);
  const connection = createRedisClient(settings, 'worker', 'orch-sdk-worker', logger);
  const subscriber = createRedisClient(settings, 'subscriber', 'orch-sdk-worker-abort', logger);
  // The limits matter only to workflow jobs, which this worker does not run.
  const engine = new WorkflowEngine({
    connection,
    prefix: options.prefix ?? 'orch',
    partitions: options.partitions,
    cluster: settings.clusterNodes !== undefined,
    maxConcurrentWorkflows: 1,
    executionTtlMs: 86_400_000,
    defaultWorkflowTimeoutMs: 3_600_000,
    logger,
  });
  const queues = [...new Set(specs.map((s) => s.queue))];
  const worker = new EngineWorker({
    engine,
    handlers: handlerTable(options.tasks),
    subscriber,
    concurrency: options.concurrency ?? 10,
    queues,
    name,
    logger,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    heartbeatMs: options.heartbeatMs,
    tasksOnly: true,
    identity: { taskTypes: specs.map((s) => s.name), kind: 'sdk', version: VERSION },
  });
  try {
    await engine.registerTaskTypes(specs);
    await worker.start();
  } catch (error) {
    await Promise.allSettled([worker.close(), engine.close()]);
    await Promise.all([closeConnection(subscriber), closeConnection(connection)]);
    throw error;
  }
  logger.info('sdk worker ready', { queues, task_types: specs.map((s) => s.name) });
  let closing: Promise<void> | undefined;
  return {
    name,
    queues,
    close() {
      closing ??= (async () => {
        await worker.close();
        await engine.close();
        await Promise.all([closeConnection(subscriber), closeConnection(connection)]);
      })();
      return closing;
    },
  };
}

function redisSettings(redis: StartWorkerOptions['redis']): RedisSettings {
  if (typeof redis === 'string') return { host: 'localhost', port: 6379, url: redis };
  return { host: 'localhost', port: 6379, ...redis };
}

/** Each task type's handler, wrapped: SDK context in, output checked against its schema out. */
function handlerTable(tasks: readonly TaskDefinition<never, unknown>[]): TaskHandlers {
  const table: Record<string, TaskHandler> = {};
  // An SDK worker runs only its own types; a built-in service task routed to its queue fails, saying why.
  for (const type of SERVICE_TASK_TYPES) {
    table[type] = async () => {
      throw new PermanentTaskError(`${type} tasks run on the stock worker, not on an SDK worker's queue`);
    };
  }
  for (const task of tasks) {
    const checkOutput = task.output ? ajv.compile(task.output) : undefined;
    table[task.name] = async (params, context) => {
      const output = await task.handler(params as never, sdkContext(context));
      if (checkOutput && !checkOutput(output)) {
        const details = formatAjvErrors(checkOutput.errors, '/output');
        throw new PermanentTaskError(
          `task type '${task.name}' returned an output that breaks its schema: ${details.map((d) => `${d.pointer} ${d.message}`).join('; ')}`,
        );
      }
      return output;
    };
  }
  return table as unknown as TaskHandlers;
}
