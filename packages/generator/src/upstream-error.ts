import { type ErrorDetail, OrchestratorError } from '@orch/errors';

/**
 * The model endpoint failed for good (after retries where retrying made sense). `upstreamStatus` is the endpoint's
 * last HTTP status, absent when it could not be reached at all; `details` lists every failed request.
 */
export class UpstreamError extends OrchestratorError {
  readonly upstreamStatus: number | undefined;

  constructor(message: string, upstreamStatus: number | undefined, details: ErrorDetail[], cause?: unknown) {
    super('UPSTREAM_ERROR', message, { details, cause });
    this.upstreamStatus = upstreamStatus;
  }
}
