import { type ErrorCode, OrchestratorError } from './orchestrator-error';

/** A failure that retrying will not fix (bad parameters, a 4xx from a service). Becomes BullMQ's UnrecoverableError. */
export class PermanentTaskError extends OrchestratorError {
  constructor(message: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'TASK_FAILED', message, { cause: options.cause });
  }
}
