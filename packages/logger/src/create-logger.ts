import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** Fields on every line, such as `service: 'worker'`. */
  defaults?: Record<string, unknown>;
  /** Tests pass a stream to read what was logged. */
  stream?: NodeJS.WritableStream;
}

/**
 * Structured JSON lines. Lines about a run carry `correlation_id`, `execution_id` and `task_id`: create them with
 * `logger.child({ execution_id, ... })`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: options.defaults,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [transport],
  });
}

/** A logger that drops everything, for libraries used without one. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
