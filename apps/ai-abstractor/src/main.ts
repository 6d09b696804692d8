#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { startProcessTracing } from '@orch/tracing';
import { AiAbstractor } from './ai-abstractor';

/** The ai-abstractor process: answers `ai-requests` until SIGTERM or SIGINT. */
runProcess('ai-abstractor', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'ai-abstractor' } });
  // Before anything that makes spans; off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startProcessTracing(config.tracing, 'ai-abstractor', logger);
  const service = new AiAbstractor({
    redis: config.redis,
    openai: config.openai,
    secret: config.serviceSecret,
    logger,
  });
  await service.start();
  logger.info('ai-abstractor started', { mode: service.mode, base_url: config.openai.baseUrl });
  return { logger, close: () => service.close().finally(() => tracing.close()) };
});
