#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { AiAbstractor } from './ai-abstractor';

/** The ai-abstractor process: answers `ai-requests` until SIGTERM or SIGINT. */
runProcess('ai-abstractor', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'ai-abstractor' } });
  const service = new AiAbstractor({
    redis: config.redis,
    openai: config.openai,
    secret: config.serviceSecret,
    logger,
  });
  await service.start();
  logger.info('ai-abstractor started', { mode: service.mode, base_url: config.openai.baseUrl });
  return { logger, close: () => service.close() };
});
