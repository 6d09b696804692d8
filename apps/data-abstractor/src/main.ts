#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { DataAbstractor } from './data-abstractor';

/** The data-abstractor process: answers `data-requests` until SIGTERM or SIGINT. */
runProcess('data-abstractor', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'data-abstractor' } });
  const service = new DataAbstractor({ redis: config.redis, secret: config.serviceSecret, logger });
  await service.start();
  logger.info('data-abstractor started (development stand-in with sample data)');
  return { logger, close: () => service.close() };
});
