import { type ErrorCode, OrchestratorError } from './orchestrator-error';

/**
 * A failure worth another attempt (a 503, a 429, a dropped connection). With `retryAfterMs` the next attempt waits
 * at least that long (a Retry-After header), whatever the task's backoff says.
 */
export class RetryableTaskError extends OrchestratorError {
  readonly retryAfterMs?: number;

  constructor(message: string, options: { cause?: unknown; code?: ErrorCode; retryAfterMs?: number } = {}) {
    super(options.code ?? 'UPSTREAM_ERROR', message, { cause: options.cause });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
