#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { ValidationError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { DataAbstractor } from './data-abstractor';

/** The data-abstractor process: answers `data-requests` until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'data-abstractor' } });
  const service = new DataAbstractor({ redis: config.redis, logger });
  await service.start();
  logger.info('data-abstractor started (development stand-in with sample data)');
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
