import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Config, partitionOptions } from '@orch/config';
import { finishedRecord, WorkflowEngine } from '@orch/engine';
import { WorkflowGenerator } from '@orch/generator';
import type { Logger } from '@orch/logger';
import { closeConnection, createRedisClient, type RedisClient, RedisKeys, unsubscribeQuietly } from '@orch/redis';
import { TemplateCatalog } from '@orch/templates';
import type { Express } from 'express';
import type { ApiDeps } from './api-deps';
import { createApp } from './app';
import { Backpressure } from './backpressure';
import { byteLimit } from './byte-limit';
import { EventStreams } from './event-streams';
import { createHttpServer } from './http-limits';
import { ApiMetrics } from './metrics';
import { RunWaiters } from './run-waiters';
import { WorkflowBus } from './workflow-bus';

export interface ApiServiceOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Defaults to loading `config.templatesDir`. */
  catalog?: TemplateCatalog;
  /** SSE heartbeat interval; tests shorten it. */
  heartbeatMs?: number;
  /** How long shutdown waits for in-flight requests before cutting their connections. */
  drainTimeoutMs?: number;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The prompt -> workflow generator; the catalog's templates are the model's few-shot examples. */
function createGenerator(config: Readonly<Config>, catalog: TemplateCatalog, logger: Logger): WorkflowGenerator {
  return new WorkflowGenerator({
    baseUrl: config.openai.baseUrl,
    apiKey: config.openai.apiKey,
    model: config.openai.model,
    timeoutMs: config.openai.timeoutMs,
    maxAttempts: config.generateMaxAttempts,
    templates: catalog.list().map((t) => catalog.get(t.id)),
    logger,
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Counts every run of the cluster that ends, heard on the finished channel, and wakes the submits waiting for it. */
function countFinished(channel: string, metrics: ApiMetrics, waiters: RunWaiters, logger: Logger) {
  return (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const run = JSON.parse(message) as {
        execution_id: string;
        status: string;
        correlation_id?: string;
        record?: object;
      };
      metrics.finished(run.status);
      waiters.finished(String(run.execution_id), String(run.status), () => finishedRecord(run));
      logger.debug('run finished', {
        execution_id: run.execution_id,
        correlation_id: run.correlation_id || undefined,
        status: run.status,
      });
    } catch {
      logger.warn('unreadable message on the finished channel', { channel });
    }
  };
}

/**
 * The API process: its Redis connections, the engine's producer side, the HTTP server, the message bus and the
 * finished-run subscription, with one ordered, idempotent close.
 */
export class ApiService {
  private closing?: Promise<void>;
  private shuttingDown = false;

  private constructor(
    readonly deps: ApiDeps,
    readonly app: Express,
    readonly server: Server,
    readonly bus: WorkflowBus,
    private readonly subscriber: RedisClient,
    private readonly drainTimeoutMs: number,
  ) {}

  /** Connects, listens on the configured host and port (0 picks a free one), then subscribes to the bus. */
  static async start(options: ApiServiceOptions): Promise<ApiService> {
    const { config, logger } = options;
    const redis = createRedisClient(config.redis, 'api', 'orch-api', logger);
    // A subscribed client can do nothing else; it keeps its offline queue so it resubscribes after a reconnect.
    const subscriber = createRedisClient(config.redis, 'subscriber', 'orch-api-sub', logger);
    const engine = new WorkflowEngine({
      connection: redis,
      prefix: config.queuePrefix,
      maxConcurrentWorkflows: config.maxConcurrentWorkflows,
      executionTtlMs: config.executionTtlMs,
      defaultWorkflowTimeoutMs: config.defaultWorkflowTimeoutMs,
      maxSubworkflowDepth: config.maxSubworkflowDepth,
      exitGraceMs: config.exitGracePeriodMs,
      taskLogMaxBytes: config.taskLogMaxBytes,
      ...partitionOptions(config),
      logger,
      bullConnectionName: 'orch-api-bullmq',
    });
    const catalog = options.catalog ?? (await TemplateCatalog.load(config.templatesDir));
    for (const problem of catalog.problems) {
      logger.warn('template file skipped', { path: problem.path, errors: problem.errors });
    }
    if (config.server.apiKeys.length === 0) {
      logger.warn('ORCHESTRATOR_API_KEYS is not set: every route, Bull Board included, is open without a key');
    }
    const generator = createGenerator(config, catalog, logger);
    // One connection per event stream: its connecting is routine (debug), its outages are not.
    const streamConnectionLog = {
      info: (message: string, meta?: Record<string, unknown>) => logger.debug(message, meta),
      warn: (message: string, meta?: Record<string, unknown>) => logger.warn(message, meta),
    };
    const streams = new EventStreams({
      engine,
      connect: () => createRedisClient(config.redis, 'worker', 'orch-api-sse', streamConnectionLog),
      logger,
      heartbeatMs: options.heartbeatMs,
    });
    const metrics = new ApiMetrics(engine, logger, () => streams.size);
    const waiters = new RunWaiters();
    const observe = (outcome: 'held' | 'refused') => metrics.backpressure(outcome);
    const backpressure = new Backpressure({ read: () => engine.backlog(), ...config.backpressure, logger, observe });
    const deps: ApiDeps = {
      config,
      engine,
      catalog,
      generator,
      redis,
      logger,
      metrics,
      streams,
      waiters,
      backpressure,
      version: packageVersion(),
      startedAt: Date.now(),
    };
    const bus = new WorkflowBus({
      subscriber,
      publisher: redis,
      engine,
      keys: new RedisKeys(config.queuePrefix),
      catalog,
      logger,
      metrics,
      waiters,
      maxWaitMs: config.server.maxWaitMs,
      maxMessageBytes: byteLimit(config.server.bodyLimit),
      maxJsonDepth: config.server.jsonMaxDepth,
    });
    let service: ApiService | undefined;
    const app = createApp(deps, { closing: () => service?.shuttingDown ?? false });
    const server = createHttpServer(app, config.server, logger);
    service = new ApiService(deps, app, server, bus, subscriber, options.drainTimeoutMs ?? 10_000);
    await listen(server, config.server.port, config.server.host);
    const finished = engine.finishedChannel();
    subscriber.on('message', countFinished(finished, metrics, waiters, logger));
    await Promise.all([subscriber.subscribe(finished), bus.start()]);
    logger.info('api listening', { url: service.url, version: deps.version });
    return service;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  }

  /**
   * Stops taking work (new connections and bus messages), ends event streams (clients resume elsewhere with
   * Last-Event-ID), waits for in-flight requests and bus messages, closes the engine's queues, and quits Redis
   * last, since everything before needs it. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const { logger, engine, redis } = this.deps;
      this.shuttingDown = true;
      logger.info('api shutting down');
      const drained = new Promise<void>((resolve) => this.server.close(() => resolve()));
      // Submits waiting for their run's end answer 202 now, and held ones go on: nothing waits on a closing API.
      this.deps.waiters.close();
      this.deps.backpressure.close();
      await this.bus.stop();
      await this.deps.streams.close();
      this.server.closeIdleConnections();
      const cut = setTimeout(() => {
        logger.warn('requests still running at the drain deadline; closing their connections');
        this.server.closeAllConnections();
      }, this.drainTimeoutMs);
      await drained;
      clearTimeout(cut);
      await unsubscribeQuietly(this.subscriber);
      await engine.close();
      await Promise.all([closeConnection(this.subscriber), closeConnection(redis)]);
      logger.info('api stopped');
    })();
    return this.closing;
  }
}
