import type { Logger } from '@orch/logger';

export interface RunningProcess {
  logger: Logger;
  /** Stops the process's work in its own order; called once, on the first SIGTERM or SIGINT. */
  close(): Promise<void>;
}

/**
 * The life of every service process: start, then on SIGTERM or SIGINT close and exit 0 (1 if closing failed); a
 * second signal exits at once. A start-up failure prints a clear message and exits 2 for a bad configuration (its
 * message names each variable), 1 otherwise.
 */
export function runProcess(name: string, start: () => Promise<RunningProcess>): void {
  start().then(
    ({ logger, close }) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn('second signal: exiting without waiting', { signal });
          process.exit(1);
        }
        stopping = true;
        logger.info('stopping', { signal });
        close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error('error while stopping', { error: String(error) });
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (error: unknown) => {
      const described = error as { code?: string; describe?: () => string; stack?: string };
      const text = typeof described.describe === 'function' ? described.describe() : (described.stack ?? String(error));
      process.stderr.write(`${name} failed to start: ${text}\n`);
      process.exit(described.code === 'CONFIG_INVALID' ? 2 : 1);
    },
  );
}
