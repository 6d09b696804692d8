#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { ApiService } from './api-service';

/** Starts the API; SIGTERM and SIGINT close it in order (see ApiService.close) and exit. */
runProcess('orchestrator-api', async () => {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'orchestrator-api' } });
  const service = await ApiService.start({ config, logger });
  return { logger, close: () => service.close() };
});
