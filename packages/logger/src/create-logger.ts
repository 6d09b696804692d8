import { context, trace } from '@opentelemetry/api';
import type { Logger as WinstonLogger } from 'winston';
import winston from 'winston';

// Through a named type import, so declarations bundled from this one (the worker SDK's) need no esModuleInterop.
export type Logger = WinstonLogger;

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
  // winston formats every line before its transports drop those below the level: a line at debug in an API at info
  // cost its timestamp and JSON (about 2% of the API's busy time in a profile); this filter drops it first.
  const logger: Logger = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: options.defaults,
    format: winston.format.combine(
      enabledOnly(() => logger),
      winston.format.timestamp(),
      traceIds(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [transport],
  });
  return logger;
}

/** Passes the lines the logger's level lets through (a format that returns false drops the line). */
const enabledOnly = (logger: () => Logger) =>
  winston.format((info) => (logger().isLevelEnabled(info.level) ? info : false))();

/** A logger that drops everything, for libraries used without one. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/**
 * `trace_id` and `span_id` of the span active where the line is logged (a task attempt, a service request). Without
 * tracing there is never an active span and this adds nothing.
 */
const traceIds = winston.format((info) => {
  const span = trace.getSpanContext(context.active());
  if (span && trace.isSpanContextValid(span)) {
    info.trace_id = span.traceId;
    info.span_id = span.spanId;
  }
  return info;
});
