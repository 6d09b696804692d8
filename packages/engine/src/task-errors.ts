import { OrchestratorError, PermanentTaskError, ValidationError } from '@orch/errors';
import { UnrecoverableError } from 'bullmq';

const MAX_ERROR_CHARS = 2000;
/** Causes followed at most: a cycle (`a.cause = a`) or a very deep chain stops here. */
const MAX_CAUSES = 5;

/** BullMQ's answer when a job's lock is gone or held by another worker (its finished-errors codes -2 and -6). */
export function lockLost(error: unknown): boolean {
  return error instanceof Error && /^(Missing lock|Lock mismatch) for job /.test(error.message);
}

/** A failure a retry cannot fix. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof PermanentTaskError ||
    error instanceof UnrecoverableError ||
    error instanceof ValidationError ||
    (error instanceof OrchestratorError && error.code === 'EXPRESSION_ERROR')
  );
}

/** A timeout (the task's own, or recovery finding the job overdue): the attempt ends `timed_out`. */
export function isTimeout(error: unknown): boolean {
  return error instanceof OrchestratorError && error.code === 'TIMEOUT';
}

/** How a failed attempt ended, for its history. */
export function attemptEnd(error: unknown): 'timed_out' | 'failed' {
  return isTimeout(error) ? 'timed_out' : 'failed';
}

/** Kept with a failed task whose last attempt timed out (as its `r`), so its history says so. */
export function timedOut(error: unknown): 'timed_out' | undefined {
  return isTimeout(error) ? 'timed_out' : undefined;
}

/** The message, then one `caused by:` line per cause (what an operator needs to see why), capped. */
export function errorText(error: unknown): string {
  let text = messageOf(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && cause !== null && depth < MAX_CAUSES; depth++) {
    const line = messageOf(cause);
    if (!text.includes(line)) text += `\ncaused by: ${line}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}

/** Abort reasons sent through BullMQ's cancelJob: the run is ending, so the task must not be retried. */
export const WORKFLOW_ABORT = 'workflow-abort';
/** Abort reason when recovery finds a job past its timeout: it fails the attempt, which is retried per policy. */
export const TASK_TIMEOUT = 'task-timeout';

/** A task or sub-task stopped because its run is ending (cancel, timeout, fail-fast): never retried. */
export class WorkflowAbortError extends UnrecoverableError {}
