import { type ErrorCode, OrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';

/** What a handler knows about the attempt it runs in. */
export interface TaskContext {
  executionId: string;
  taskId: string;
  correlationId?: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Fires when the attempt times out, or the run is cancelled, times out or fails fast. Pass it on to I/O. */
  signal: AbortSignal;
  /** Epoch ms at which this attempt times out, when the task has a timeout. */
  deadline?: number;
  logger: Logger;
}

/**
 * Runs one task attempt. `parameters` have their expressions evaluated and have passed the type's schema in the
 * task catalog. The resolved value is the task's output. Throw `PermanentTaskError` for failures a retry cannot fix;
 * anything else is retried per the task's retry policy.
 */
export type TaskHandler = (parameters: Record<string, unknown>, context: TaskContext) => Promise<unknown>;

/** A failure that retrying will not fix (bad parameters, a 4xx from a service). Becomes BullMQ's UnrecoverableError. */
export class PermanentTaskError extends OrchestratorError {
  constructor(message: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'TASK_FAILED', message, { cause: options.cause });
  }
}
