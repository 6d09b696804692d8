import type { Logger } from '@orch/logger';
import type { AttemptEnding } from '@orch/run-model';
import { DelayedError, type Job, type MinimalJob, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { AttemptLog } from './attempt-log';
import type { EngineContext } from './engine-context';
import { type BackoffSpec, backoffDelay } from './execution-definition';
import { lockLost, WorkflowAbortError } from './task-errors';
import type { TaskOutcome } from './task-observer';

/* How a task job's run ended, as its log, the observer and BullMQ's backoff see it (partition-worker.ts). */

/** How an attempt's log says it ended; none for a job that let go of the worker and comes back (same attempt). */
export function endingOf(outcome: TaskOutcome): AttemptEnding | undefined {
  if (outcome === 'parked') return undefined;
  return outcome === 'failed' || outcome === 'retrying' || outcome === 'aborted' || outcome === 'lost'
    ? outcome
    : 'completed';
}

/** The log of the attempt a task or sub-task job runs (`<task>[<index>]` for a sub-task). */
export function attemptLogOf(ctx: EngineContext, job: Job, logger: Logger): AttemptLog {
  const data = job.data as { e: string; t: string; i?: number };
  const task = job.name === 'subtask' ? `${data.t}[${data.i}]` : data.t;
  // The record's attempt number: re-runs after a lost worker count (stalledCounter), as the task runner counts them.
  return new AttemptLog(ctx.logs, data.e, task, job.attemptsMade + 1 + (job.stalledCounter ?? 0), () => logger);
}

/** The outcome of a job whose run threw. (The signal cannot tell: a task's own failure can abort its run.) */
export function outcomeOf(error: unknown): TaskOutcome {
  if (error instanceof DelayedError || error instanceof WaitingChildrenError) return 'parked';
  if (error instanceof WorkflowAbortError) return 'aborted';
  if (lockLost(error)) return 'lost';
  return error instanceof UnrecoverableError ? 'failed' : 'retrying';
}

/** The task's backoff, but never sooner than a failure's own `retryAfterMs` (an http 429's Retry-After). */
export function retryDelay(attemptsMade: number, job: MinimalJob | undefined, error: Error | undefined): number {
  const spec = (job?.data as { bp?: BackoffSpec } | undefined)?.bp;
  const after = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return Math.max(spec ? backoffDelay(spec, attemptsMade) : 0, typeof after === 'number' ? after : 0);
}
