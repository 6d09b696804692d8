#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { ValidationError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { AiAbstractor } from './ai-abstractor';

/** The ai-abstractor process: answers `ai-requests` until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'ai-abstractor' } });
  const service = new AiAbstractor({ redis: config.redis, openai: config.openai, logger });
  await service.start();
  logger.info('ai-abstractor started', { mode: service.mode, base_url: config.openai.baseUrl });
  const stop = (signal: NodeJS.Signals) => {
    logger.info('stopping', { signal });
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('close failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ValidationError ? error.describe() : String(error)}\n`);
  process.exit(1);
});
