import { hostname } from 'node:os';
import { type Config, partitionOptions } from '@orch/config';
import { EngineWorker, type TaskHandlers, WorkflowEngine } from '@orch/engine';
import type { Logger } from '@orch/logger';
import { MessageCoordinator } from '@orch/messaging';
import { closeConnection, createRedisClient, whileReachable } from '@orch/redis';
import { TemplateCatalog } from '@orch/templates';
import { serveMetrics } from './metrics-server';
import { createServiceHandlers } from './tasks/service-handlers';

/** How long close() waits for an unreachable Redis to come back before it stops without it. */
export const REDIS_GONE_GRACE_MS = 2000;

export interface WorkerProcess {
  readonly worker: EngineWorker;
  /** Where `/metrics` is served, when WORKER_METRICS_PORT is set. */
  readonly metricsUrl?: string;
  /** Stops taking jobs, lets running ones finish, then closes the coordinator, queues and Redis, in that order. */
  close(): Promise<void>;
}

/** Wires one worker process: Redis connections, the engine, every task handler, recovery. */
export async function startWorkerProcess(config: Readonly<Config>, logger: Logger): Promise<WorkerProcess> {
  const name = config.workerName ?? `${hostname()}:${process.pid}`;
  // Listening first: a metrics port already taken stops the process before it connects or takes any job.
  const served =
    config.workerMetricsPort === undefined ? undefined : await serveMetrics(name, config.workerMetricsPort);
  if (served) logger.info('worker metrics listening', { url: served.server.url });
  const connection = createRedisClient(config.redis, 'worker', 'orch-worker', logger);
  const subscriber = createRedisClient(config.redis, 'subscriber', 'orch-worker-abort', logger);
  const engine = new WorkflowEngine({
    connection,
    prefix: config.queuePrefix,
    maxConcurrentWorkflows: config.maxConcurrentWorkflows,
    executionTtlMs: config.executionTtlMs,
    defaultWorkflowTimeoutMs: config.defaultWorkflowTimeoutMs,
    maxSubworkflowDepth: config.maxSubworkflowDepth,
    exitGraceMs: config.exitGracePeriodMs,
    taskLogMaxBytes: config.taskLogMaxBytes,
    ...partitionOptions(config),
    logger,
    bullConnectionName: 'orch-worker-bullmq',
  });
  const coordinator = new MessageCoordinator({ logger, redis: config.redis, secret: config.serviceSecret });
  // Sub-workflow tasks name templates; a broken template file is logged and left out, as in the API.
  const catalog = await TemplateCatalog.load(config.templatesDir);
  for (const problem of catalog.problems)
    logger.warn('template skipped', { path: problem.path, errors: problem.errors });
  // The service types' handlers; the builtin and control types run from their modules.
  const handlers: TaskHandlers = createServiceHandlers({ coordinator, openai: config.openai, http: config.httpTask });
  const worker = new EngineWorker({
    engine,
    handlers,
    subscriber,
    concurrency: config.workerConcurrency,
    inlineContinuation: config.workerInlineContinuation,
    queues: config.workerQueues,
    partitions: config.workerPartitions,
    heartbeatMs: config.workerHeartbeatMs,
    lockDurationMs: config.workerLockDurationMs,
    stalledIntervalMs: config.workerStalledIntervalMs,
    logger,
    name,
    observer: served?.metrics,
    templates: (reference) => catalog.get(reference),
    recovery: config.recovery.enabled
      ? {
          intervalMs: config.recovery.intervalMs,
          strategy: config.recovery.strategy,
          // Quiet for two stall checks plus a lock: by then BullMQ would have re-queued a dead worker's job.
          orphanAfterMs: 2 * config.workerStalledIntervalMs + config.workerLockDurationMs,
          graceMs: config.workerLockDurationMs,
        }
      : undefined,
  });
  await worker.start();
  await scheduleTemplates(worker, catalog, logger);
  let closing: Promise<void> | undefined;
  return {
    worker,
    metricsUrl: served?.server.url,
    close() {
      closing ??= (async () => {
        const graceful = (async () => {
          await worker.close();
          await coordinator.close();
          await engine.close();
        })();
        // Every step above needs Redis; with Redis gone they would wait for it forever (until the SIGKILL).
        if (!(await whileReachable(connection, graceful, REDIS_GONE_GRACE_MS))) {
          logger.warn('Redis is unreachable: stopping without waiting for running jobs', {
            grace_ms: REDIS_GONE_GRACE_MS,
            note: 'their locks expire and a worker runs them again once Redis is back',
          });
        }
        await served?.server.close();
        await Promise.all([...[subscriber, connection].map((client) => closeConnection(client)), engine.disconnect()]);
      })();
      return closing;
    },
  };
}

/** Schedules declared in templates: upserting with a fixed id is idempotent across workers and restarts. */
async function scheduleTemplates(worker: EngineWorker, catalog: TemplateCatalog, logger: Logger): Promise<void> {
  for (const summary of catalog.list()) {
    const template = catalog.get(summary.id);
    if (!template.schedule) continue;
    const { cron, timezone, variables, overlap } = template.schedule;
    await worker.schedules
      .upsert(
        { id: `template.${template.id}`, cron, timezone, variables, overlap, workflow_template: template.id },
        `template:${template.id}`,
      )
      .catch((error: Error) =>
        logger.error('template schedule not created', { template: template.id, error: error.message }),
      );
  }
}
