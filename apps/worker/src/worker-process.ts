import { hostname } from 'node:os';
import type { Config } from '@orch/config';
import { builtinHandlers, EngineWorker, type TaskHandlers, WorkflowEngine } from '@orch/engine';
import type { Logger } from '@orch/logger';
import { MessageCoordinator } from '@orch/messaging';
import { createRedisConnection } from '@orch/redis';
import { TemplateCatalog } from '@orch/templates';
import { type MetricsServer, startMetricsServer } from './metrics-server';
import { createServiceHandlers } from './tasks/service-handlers';
import { WorkerMetrics } from './worker-metrics';

export interface WorkerProcess {
  readonly worker: EngineWorker;
  /** Where `/metrics` is served, when WORKER_METRICS_PORT is set. */
  readonly metricsUrl?: string;
  /** Stops taking jobs, lets running ones finish, then closes the coordinator, queues and Redis, in that order. */
  close(): Promise<void>;
}

/** Wires one worker process: Redis connections, the engine, every task handler, recovery. */
export async function startWorkerProcess(config: Readonly<Config>, logger: Logger): Promise<WorkerProcess> {
  const settings = config.redis;
  const connection = createRedisConnection(settings, 'worker', 'orch-worker');
  const subscriber = createRedisConnection(settings, 'worker', 'orch-worker-abort');
  const engine = new WorkflowEngine({
    connection,
    prefix: config.queuePrefix,
    maxConcurrentWorkflows: config.maxConcurrentWorkflows,
    executionTtlMs: config.executionTtlMs,
    defaultWorkflowTimeoutMs: config.defaultWorkflowTimeoutMs,
    logger,
  });
  const coordinator = new MessageCoordinator({ logger, redis: settings });
  // Sub-workflow tasks name templates; a broken template file is logged and left out, as in the API.
  const catalog = await TemplateCatalog.load(config.templatesDir);
  for (const problem of catalog.problems)
    logger.warn('template skipped', { path: problem.path, errors: problem.errors });
  const handlers: TaskHandlers = {
    ...builtinHandlers,
    ...createServiceHandlers({ coordinator, openai: config.openai }),
  };
  const name = config.workerName ?? `${hostname()}:${process.pid}`;
  const metrics = config.workerMetricsPort === undefined ? undefined : new WorkerMetrics(name);
  // Listening first: a port already taken stops the process before it takes any job.
  let metricsServer: MetricsServer | undefined;
  if (metrics && config.workerMetricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer(metrics.registry, config.workerMetricsPort);
    } catch (error) {
      await Promise.allSettled([coordinator.close(), engine.close()]);
      subscriber.disconnect();
      connection.disconnect();
      throw error;
    }
    logger.info('worker metrics listening', { url: metricsServer.url });
  }
  const worker = new EngineWorker({
    engine,
    handlers,
    subscriber,
    concurrency: config.workerConcurrency,
    lockDurationMs: config.workerLockDurationMs,
    stalledIntervalMs: config.workerStalledIntervalMs,
    logger,
    name,
    observer: metrics,
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
  // Schedules declared in templates: upserting with a fixed id is idempotent across workers and restarts.
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
  let closing: Promise<void> | undefined;
  return {
    worker,
    metricsUrl: metricsServer?.url,
    close() {
      closing ??= (async () => {
        await worker.close();
        await metricsServer?.close();
        await coordinator.close();
        await engine.close();
        await subscriber.quit().catch(() => subscriber.disconnect());
        await connection.quit().catch(() => connection.disconnect());
      })();
      return closing;
    },
  };
}
