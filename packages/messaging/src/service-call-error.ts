import { type ErrorCode, OrchestratorError } from '@orch/errors';

export interface ServiceCallErrorOptions {
  retryable: boolean;
  /** The service, e.g. `exec-agent`. */
  service?: string;
  /** The code the service itself sent, when the failure is its error response. */
  remoteCode?: string;
  cause?: unknown;
}

/**
 * A call to an external service failed: it answered with an error, did not answer in time, nobody was listening, or
 * the answer broke the envelope. `retryable` says whether the same request may succeed later. Services throw it
 * too, to choose the code and retryability of their error response.
 */
export class ServiceCallError extends OrchestratorError {
  readonly retryable: boolean;
  readonly service?: string;
  readonly remoteCode?: string;

  constructor(code: ErrorCode, message: string, options: ServiceCallErrorOptions) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable;
    this.service = options.service;
    this.remoteCode = options.remoteCode;
  }
}
