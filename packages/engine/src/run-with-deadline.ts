import { OrchestratorError } from '@orch/errors';
import type { TaskContext, TaskHandler } from './task-handler';

/** An attempt ran past the task's `timeout`: retried per the task's policy, recorded `timed_out`. */
export class TaskTimeoutError extends OrchestratorError {
  constructor(task: string, ms: number, cause?: unknown) {
    super('TIMEOUT', `task ${task} timed out after ${ms} ms`, { cause });
  }
}

/**
 * Runs a handler until it settles, the task's timeout fires, or the run is aborted, whichever is first. `context` is
 * this attempt's own object: its signal and deadline are set here. Without a timeout the attempt's signal is passed
 * on as it is (an AbortController per task is measurable at thousands of tasks a second).
 */
export async function runWithDeadline(
  handler: TaskHandler,
  params: Record<string, unknown>,
  context: TaskContext,
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
  label: string,
): Promise<unknown> {
  let signal = outer;
  let timer: NodeJS.Timeout | undefined;
  let forward: (() => void) | undefined;
  if (timeoutMs !== undefined) {
    const controller = new AbortController();
    const abort = () => controller.abort(outer?.reason);
    forward = abort;
    outer?.addEventListener('abort', abort, { once: true });
    timer = setTimeout(() => controller.abort(new TaskTimeoutError(label, timeoutMs)), timeoutMs);
    signal = controller.signal;
    context.deadline = Date.now() + timeoutMs;
  }
  if (!signal) return handler(params, context);
  const live = signal;
  context.signal = live;
  let fail: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    fail = () => {
      const reason = live.reason;
      reject(
        reason instanceof Error ? reason : new OrchestratorError('TIMEOUT', `task ${label} aborted: ${String(reason)}`),
      );
    };
    if (live.aborted) fail();
    else live.addEventListener('abort', fail, { once: true });
  });
  try {
    return await Promise.race([handler(params, context), aborted]);
  } catch (error) {
    // A handler's own deadline (a service call's, which is this one) can fire a moment before our timer: past the
    // deadline, whatever failed, the attempt timed out, and it says so in one message (the handler's error as cause).
    const { deadline } = context;
    if (timeoutMs !== undefined && deadline !== undefined && Date.now() >= deadline && !isTimeout(error))
      throw new TaskTimeoutError(label, timeoutMs, error);
    throw error;
  } finally {
    clearTimeout(timer);
    if (forward) outer?.removeEventListener('abort', forward);
    if (fail) live.removeEventListener('abort', fail);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof TaskTimeoutError;
}
