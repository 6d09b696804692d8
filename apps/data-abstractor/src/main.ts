#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { startProcessTracing } from '@orch/tracing';
import { DataAbstractor } from './data-abstractor';

/** The data-abstractor process: answers `data-requests` until SIGTERM or SIGINT. */
runProcess('data-abstractor', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'data-abstractor' } });
  // Before anything that makes spans; off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startProcessTracing(config.tracing, 'data-abstractor', logger);
  const service = new DataAbstractor({ redis: config.redis, secret: config.serviceSecret, logger });
  await service.start();
  logger.info('data-abstractor started (development stand-in with sample data)');
  return { logger, close: () => service.close().finally(() => tracing.close()) };
});
