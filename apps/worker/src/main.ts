import { loadConfig } from '@orch/config';
import { ValidationError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { startWorkerProcess } from './worker-process';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ValidationError ? error.describe() : String(error)}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'worker', pid: process.pid } });
  const worker = await startWorkerProcess(config, logger);
  logger.info('worker ready', { concurrency: config.workerConcurrency, worker: worker.worker.name });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn('second signal: exiting without waiting for running jobs', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping: finishing running jobs', { signal });
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('error while stopping', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
