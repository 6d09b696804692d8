import { type ErrorDetail, OrchestratorError } from '@orch/errors';

export interface ExpressionErrorOptions {
  /** Character offset into `source`, when the failure can be located (parse errors, unterminated `${`). */
  position?: number;
  details?: ErrorDetail[];
  cause?: unknown;
}

/** An expression or template string could not be parsed or evaluated. */
export class ExpressionError extends OrchestratorError {
  /** The expression (or, for template syntax errors, the whole template string) the error is about. */
  readonly source: string;
  readonly position: number | undefined;

  constructor(message: string, source: string, options: ExpressionErrorOptions = {}) {
    super('EXPRESSION_ERROR', message, { cause: options.cause, details: options.details });
    this.source = source;
    this.position = options.position;
  }
}
