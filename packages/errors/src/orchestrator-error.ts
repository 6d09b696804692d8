/** Stable, machine-readable error codes. The HTTP status for each is decided once, here. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  EXPRESSION_ERROR: 400,
  TEMPLATE_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  UPSTREAM_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  CONFIG_INVALID: 500,
  TASK_FAILED: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem in a document, located by a JSON pointer (RFC 6901) into it. */
export interface ErrorDetail {
  pointer: string;
  message: string;
}

export interface OrchestratorErrorOptions {
  cause?: unknown;
  details?: ErrorDetail[];
  /** For a passing condition (Redis unreachable, a server shutting down): seconds after which trying again may work. */
  retryAfterS?: number;
}

/** Base of every error we raise on purpose: a code, a message a person can act on, and optional located details. */
export class OrchestratorError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  readonly retryAfterS?: number;

  constructor(code: ErrorCode, message: string, options: OrchestratorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
    if (options.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetail[] } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A document (workflow, template, request body, config) broke one or more rules; every broken rule is in `details`. */
export class ValidationError extends OrchestratorError {
  constructor(message: string, details: ErrorDetail[], options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'VALIDATION_FAILED', message, { cause: options.cause, details });
  }

  /** One line per detail, `pointer: message`, for terminals and logs. */
  describe(): string {
    return [this.message, ...this.details.map((d) => `  ${d.pointer || '/'}: ${d.message}`)].join('\n');
  }
}

export class NotFoundError extends OrchestratorError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} '${id}' was not found`);
  }
}

/** Normalises anything thrown into an OrchestratorError, keeping the original as `cause`. */
export function toOrchestratorError(error: unknown): OrchestratorError {
  if (error instanceof OrchestratorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OrchestratorError('INTERNAL', message, { cause: error });
}
