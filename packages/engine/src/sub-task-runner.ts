import type { TaskHandler } from '@orch/core';
import { PermanentTaskError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import { trace, tracingOn } from '@orch/tracing';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { AttemptLog } from './attempt-log';
import type { ConcurrencyGates } from './concurrency-gates';
import type { EngineContext } from './engine-context';
import { runWithDeadline } from './run-with-deadline';
import { errorText, isPermanent, lockLost, WORKFLOW_ABORT, WorkflowAbortError } from './task-errors';
import type { TaskContext } from './task-handler';
import type { SubTaskJobData } from './task-job';
import { checkParameters } from './task-parameters';

/** Runs the sub-task jobs of parallel tasks (their items), under the gates of their limits. */
export class SubTaskRunner {
  constructor(
    private readonly ctx: EngineContext,
    private readonly gates: ConcurrencyGates,
    private readonly logger: Logger,
    private readonly handlerOf: (type: string) => TaskHandler,
  ) {}

  /** Runs one sub-task job: the run must still be running; its output is the job's return value. */
  async run(
    job: Job<SubTaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    attemptLog: AttemptLog,
  ): Promise<unknown> {
    const { e, t, i, type, g: gates = [] } = job.data;
    const status = (await this.ctx.store.status(e)) ?? null;
    if (status !== 'running' && status !== 'exiting')
      throw new UnrecoverableError(`sub-task ${t}[${i}] not started: the workflow is ${status}`);
    // Under a max_concurrency (the parallel task's, the run's), a slot first: until one is free the job waits parked.
    const who = { member: `${t}.${job.data.a ?? 0}.${i}`, item: { task: t, index: i } };
    if (gates.length > 0 && !(await this.gates.enter(job, token, e, who, gates))) throw new DelayedError();
    const attempt = job.attemptsMade + 1;
    const logger = this.logger.child({ execution_id: e, task_id: `${t}[${i}]`, attempt, request_id: job.data.rid });
    const { pd } = job.data;
    try {
      // Its parallel task timed out (a slot, if it waited for one, is given back to the next, which ends the same way).
      if (pd !== undefined && Date.now() >= pd) throw new PermanentTaskError(`not started: ${t} timed out`);
      checkParameters(type, job.data.params, `${t}[${i}]`);
      const context: TaskContext = {
        executionId: e,
        taskId: `${t}[${i}]`,
        attempt,
        signal: signal as AbortSignal,
        logger,
        log: attemptLog.write,
      };
      if (tracingOn()) context.span = trace.getActiveSpan();
      const output = await runWithDeadline(
        this.handlerOf(type),
        job.data.params,
        context,
        signal,
        // Never past the parallel task's own timeout.
        pd === undefined
          ? job.data.timeoutMs
          : Math.min(job.data.timeoutMs ?? Number.POSITIVE_INFINITY, pd - Date.now()),
        `${t}[${i}]`,
      );
      await this.gates.leave(e, who, gates, 'completed');
      return output;
    } catch (error) {
      if (lockLost(error)) throw error;
      const aborted = signal?.aborted && signal.reason === WORKFLOW_ABORT;
      const permanent = isPermanent(error);
      // The slot is kept between attempts: a retry is the same item, still running.
      if (aborted || permanent || attempt >= (job.opts.attempts ?? 1)) await this.gates.leave(e, who, gates, 'failed');
      if (aborted) throw new WorkflowAbortError('aborted: the workflow is ending');
      if (permanent) throw new UnrecoverableError(errorText(error));
      throw error;
    }
  }
}
