#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { startProcessTracing } from '@orch/tracing';
import { startWorkerProcess } from './worker-process';

/** A worker process; SIGTERM lets running jobs finish (or hands them back), then closes Redis last. */
runProcess('worker', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'worker', pid: process.pid } });
  // Before anything that makes spans; off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startProcessTracing(config.tracing, 'orchestrator-worker', logger);
  const worker = await startWorkerProcess(config, logger);
  logger.info('worker ready', { concurrency: config.workerConcurrency, worker: worker.worker.name });
  return { logger, close: () => worker.close().finally(() => tracing.close()) };
});
