#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { ValidationError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { ApiService } from './api-service';

/** Starts the API; SIGTERM and SIGINT close it in order (see ApiService.close) and exit. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ValidationError ? error.describe() : String(error)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'orchestrator-api' } });
  const service = await ApiService.start({ config, logger });
  const stop = (signal: string) => {
    logger.info('signal received', { signal });
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`orchestrator-api failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
