import { OrchestratorError, PermanentTaskError, ValidationError } from '@orch/errors';
import { UnrecoverableError } from 'bullmq';

const MAX_ERROR_CHARS = 2000;

/** BullMQ's answer when a job's lock is gone or held by another worker (its finished-errors codes -2 and -6). */
export function lockLost(error: unknown): boolean {
  return error instanceof Error && /^(Missing lock|Lock mismatch) for job /.test(error.message);
}

/** A failure no retry can fix: the task fails for good. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof PermanentTaskError ||
    error instanceof UnrecoverableError ||
    error instanceof ValidationError ||
    (error instanceof OrchestratorError && error.code === 'EXPRESSION_ERROR')
  );
}

/** An error's message as a task's recorded error, cut to a readable length. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
