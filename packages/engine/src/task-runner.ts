import {
  type ControlContext,
  type TaskHandler,
  type TemplateDefinition,
  taskTypeOf,
  type WaitingJob,
} from '@orch/core';
import { PermanentTaskError } from '@orch/errors';
import { resolveValue } from '@orch/expressions';
import type { Logger } from '@orch/logger';
import type { SkipReason, TaskFinalStatus } from '@orch/run-model';
import { trace, tracingOn } from '@orch/tracing';
import { DelayedError, type Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { AttemptLog } from './attempt-log';
import { ConcurrencyGates, taskGates } from './concurrency-gates';
import { attemptDeadline, type ControlScope, controlContext, waitingJob } from './control-context';
import type { TaskHandlers } from './control-flow';
import { sourceOf, wantedBy } from './definition-lookups';
import type { EngineContext } from './engine-context';
import { type CompiledTask, type ExecutionDefinition, taskOf } from './execution-definition';
import { PARKED_MS } from './parked-jobs';
import type { RunKernel } from './run-kernel';
import type { StartTaskReply } from './run-scripts';
import { runWithDeadline, TaskTimeoutError } from './run-with-deadline';
import { attemptEnd, errorText, isPermanent, lockLost, timedOut } from './task-errors';
import type { TaskContext } from './task-handler';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskOutcome } from './task-observer';
import { checkParameters, moduleOf } from './task-parameters';
import { decide, edgeOutcome, skipReasonOf } from './trigger-rules';

/** Resolves a template reference (`id` or `id@version`); throws NotFoundError. */
export type TemplateResolver = (reference: string) => TemplateDefinition;

export { lockLost } from './task-errors';

/** Abort reasons sent through BullMQ's cancelJob: the run is ending, so the task must not be retried. */
export const WORKFLOW_ABORT = 'workflow-abort';
/** Abort reason when recovery finds a job past its timeout: it fails the attempt, which is retried per policy. */
export const TASK_TIMEOUT = 'task-timeout';

/** A task or sub-task stopped because its run is ending (cancel, timeout, fail-fast): never retried. */
export class WorkflowAbortError extends UnrecoverableError {}

const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** The job an attempt runs in, and its log. */
interface JobRun {
  job: Job<TaskJobData>;
  token: string | undefined;
  signal: AbortSignal | undefined;
  attemptLog: AttemptLog;
}

/** Runs task and sub-task jobs: checkpoint replay, trigger rules, parameters, handler, completion and release. */
export class TaskRunner {
  /** What every waiting task's context is built from. */
  private readonly controls: Pick<ControlScope, 'ctx' | 'kernel' | 'templates'>;
  private readonly gates: ConcurrencyGates;

  constructor(
    private readonly ctx: EngineContext,
    private readonly kernel: RunKernel,
    private readonly handlers: TaskHandlers,
    private readonly logger: Logger,
    /** Recorded on each attempt, so a run shows which worker ran what. */
    private readonly workerName: string,
    /** Finds `id` or `id@version` in the template catalog, for `workflow` tasks. */
    templates?: TemplateResolver,
  ) {
    this.controls = { ctx, kernel, templates };
    this.gates = new ConcurrencyGates(ctx);
  }

  /** Runs one task job; resolves to the task's outcome (thrown errors are retries, parks and failures). */
  async runTask(
    job: Job<TaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    attemptLog: AttemptLog,
  ): Promise<TaskOutcome> {
    const { e, t } = job.data;
    const def = await this.ctx.store.definition(e);
    const task = taskOf(def, t);
    if (!task) throw new UnrecoverableError(`task ${t} is not part of execution ${e}`);
    // BullMQ's attempt drives retries; the record's counts every run, re-runs after a lost worker too (stalledCounter).
    const retry = job.attemptsMade + 1;
    const attempt = retry + (job.stalledCounter ?? 0);
    const wanted = wantedBy(def, task);
    // Under the run's max_concurrency, a slot first: until one is free the job waits parked.
    if (!(await this.gates.enterTask(job, token, def, task))) throw new DelayedError();
    const start = { taskId: t, attempt, worker: this.workerName, wanted, reads: task.reads };
    const reply = await this.ctx.store.scripts.startTask(e, start);
    const { runStatus, recorded } = reply;
    if (recorded) {
      // A re-run after a crash: the completion is recorded, so replay its release instead of running again.
      await this.complete(def, task, recorded.status, recorded.output, undefined, 0);
      if (recorded.status === 'failed') throw new UnrecoverableError(`task ${t} failed (recorded before a restart)`);
      return recorded.status;
    }
    if (runStatus === 'paused') {
      // Park the job until resume promotes it; it holds no worker meanwhile.
      await job.moveToDelayed(Date.now() + PARKED_MS, token);
      throw new DelayedError();
    }
    // The run is ending (its workflow job marks what never ran), unless this is one of its exit handlers.
    if (runStatus !== 'running' && !(runStatus === 'exiting' && task.exit)) return 'not_running';
    const { statuses, outputs } = inputsOf(wanted, task.reads, reply);
    const { decision, reason } = triggerDecision(def, task, statuses, outputs);
    if (decision !== 'run') {
      await this.complete(def, task, decision, undefined, undefined, 0, reason);
      return decision;
    }
    // A child logger per task is measurable at thousands of tasks a second: made only when something is logged.
    let child: Logger | undefined;
    const log = () => (child ??= this.logger.child(logFields(def, t, attempt)));
    let output: unknown;
    try {
      const scope = await this.scope(def, task, statuses, outputs);
      if (await this.skippedByCondition(def, task, scope)) return 'skipped';
      output = await this.execute({ job, token, signal, attemptLog }, def, task, { retry, attempt }, scope, log);
    } catch (error) {
      if (error instanceof DelayedError || error instanceof WaitingChildrenError) throw error;
      // This worker no longer holds the job (its lock expired, say while Redis restarted): the stall check hands it
      // to a worker that does, which runs the attempt again; recording a failure here would end the task for good.
      if (lockLost(error)) throw error;
      if (signal?.aborted && signal.reason === WORKFLOW_ABORT) {
        // An exit handler is stopped only when the grace period is over: its failure is recorded, the run ends.
        if (task.exit) await this.complete(def, task, 'failed', undefined, EXIT_STOPPED, attempt);
        throw new WorkflowAbortError(`task ${t} aborted: the workflow is ending`);
      }
      const message = errorText(error);
      const permanent = isPermanent(error);
      if (!permanent && retry < task.attempts) {
        log().warn('task attempt failed; it will be retried', { error: message });
        await this.ctx.store.scripts.retryTask(e, { taskId: t, attempt, error: message, status: attemptEnd(error) });
        throw error;
      }
      log().error('task failed', { error: message, permanent });
      await this.complete(def, task, 'failed', undefined, message, attempt, timedOut(error));
      throw new UnrecoverableError(message);
    }
    const json = JSON.stringify(output ?? null);
    if (json.length > MAX_OUTPUT_BYTES) {
      const message = `task ${t} output is ${json.length} bytes; the limit is ${MAX_OUTPUT_BYTES}`;
      await this.complete(def, task, 'failed', undefined, message, attempt);
      throw new UnrecoverableError(message);
    }
    await this.complete(def, task, 'completed', json, undefined, attempt);
    return 'completed';
  }

  /** The task's own condition (Argo's `when`): false skips it, as a condition task's other branch is. */
  private async skippedByCondition(
    def: ExecutionDefinition,
    task: CompiledTask,
    scope: Record<string, unknown>,
  ): Promise<boolean> {
    if (task.when === undefined || resolveValue(task.when, scope)) return false;
    await this.complete(def, task, 'skipped', undefined, undefined, 0, 'condition false');
    return true;
  }

  /** Records the completion (once) and adds the dependents it made ready; fail-fast aborts the rest of the run. */
  private async complete(
    def: ExecutionDefinition,
    task: CompiledTask,
    status: TaskFinalStatus,
    output: string | undefined,
    error: string | undefined,
    attempt: number,
    reason?: SkipReason | 'timed_out',
  ): Promise<void> {
    const e = def.executionId;
    const { triggeredFailFast, ready } = await this.ctx.store.scripts.completeTask(e, {
      taskId: task.id,
      status,
      output,
      error,
      attempt,
      // An exit handler's failure is recorded; it does not change how the run ends.
      failFast: status === 'failed' && def.failFast && task.failsWorkflow && !task.exit,
      reason,
      dependents: task.dependents,
    });
    // The slot first: whoever waited for it was ready before the dependents this completion releases.
    await this.gates.leave(e, { member: task.id }, taskGates(def, task), status === 'failed' ? 'failed' : 'completed');
    if (triggeredFailFast) await this.kernel.broadcastAbort(e);
    await this.kernel.release(def, ready);
  }

  /** Variables, plus `{output, status, error}` of every task this one reads. */
  private async scope(
    def: ExecutionDefinition,
    task: CompiledTask,
    statuses: ReadonlyMap<string, string>,
    outputs: ReadonlyMap<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const scope: Record<string, unknown> = { ...def.variables };
    const failed = task.reads.filter((r) => statuses.get(r) === 'failed');
    const errorOf = await this.ctx.store.taskErrors(def.executionId, failed);
    for (const r of task.reads)
      scope[r] = { output: outputs.get(r), status: statuses.get(r) || 'pending', error: errorOf.get(r) };
    // Exit handlers see the run's outcome: ${workflow.status}, ${workflow.failures}, ${workflow.duration_ms}.
    if (task.exit) scope.workflow = JSON.parse((await this.ctx.store.metaField(def.executionId, 'exit')) ?? '{}');
    return scope;
  }

  private async execute(
    { job, token, signal, attemptLog }: JobRun,
    def: ExecutionDefinition,
    task: CompiledTask,
    { retry, attempt }: { retry: number; attempt: number },
    scope: Record<string, unknown>,
    logger: () => Logger,
  ): Promise<unknown> {
    const source = sourceOf(def, task.id);
    const type = moduleOf(task.type);
    const { run } = type;
    if (run.kind === 'control') {
      // A parallel task's sub-tasks see `item` and `index`, so they are resolved per sub-task, not here.
      const parameters = run.resolvesOwnParameters ? {} : resolveOuter(type.literalParameters, source, scope);
      // BullMQ's attempt: it names the sub-task jobs, which a re-run after a lost worker must find again.
      const context = controlContext({ ...this.controls, def, task, attempt: retry, job, token });
      const deadline = await attemptDeadline(job, retry, task.timeoutMs);
      const waiting = waitingJob<unknown>(job, token, deadline);
      if (deadline !== undefined && Date.now() >= deadline) {
        await run.timedOut?.(waiting as never, context);
        throw new TaskTimeoutError(task.id, task.timeoutMs as number);
      }
      const control = run.run as (
        input: unknown,
        job: WaitingJob<unknown>,
        context: ControlContext,
      ) => Promise<unknown>;
      return control({ parameters, source, scope }, waiting, context);
    }
    const extra = run.kind === 'builtin' ? run.extraParameters?.(source) : undefined;
    const raw = extra ? { ...(source.parameters ?? {}), ...extra } : (source.parameters ?? {});
    const names = type.runScope ? { ...scope, ...type.runScope(raw) } : scope;
    const params = resolveValue(raw, names) as Record<string, unknown>;
    checkParameters(type.name, params, task.id);
    const context: TaskContext = {
      executionId: def.executionId,
      taskId: task.id,
      correlationId: def.correlationId,
      attempt,
      signal: signal as AbortSignal,
      get logger() {
        return logger();
      },
      log: attemptLog.write,
    };
    if (tracingOn()) context.span = trace.getActiveSpan();
    return runWithDeadline(this.handlerOf(type.name), params, context, signal, task.timeoutMs, task.id);
  }

  /** A builtin type's own handler, or the worker's for a service type. */
  private handlerOf(type: string): TaskHandler {
    const module = taskTypeOf(type);
    if (module?.run.kind === 'builtin') return module.run.handler as TaskHandler;
    // By name: the parameters were checked against the type's schema just before, which is what types them.
    const handler = (this.handlers as unknown as Partial<Record<string, TaskHandler>>)[type];
    if (!handler) throw new UnrecoverableError(`this worker has no handler for ${type} tasks`);
    return handler;
  }

  /** A sub-task of a parallel task: the run must still be running; its output is the job's return value. */
  async runSubTask(
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

/** What start-task read: the statuses of `wanted` tasks, the outputs of `reads` tasks. */
function inputsOf(
  wanted: readonly string[],
  reads: readonly string[],
  reply: StartTaskReply,
): { statuses: Map<string, string>; outputs: Map<string, unknown> } {
  const statuses = new Map(wanted.map((id, i) => [id, reply.statuses[i] ?? '']));
  const outputs = new Map<string, unknown>();
  reads.forEach((id, i) => {
    const raw = reply.outputs[i];
    outputs.set(id, raw ? JSON.parse(raw) : undefined);
  });
  return { statuses, outputs };
}

/**
 * The task's trigger rule over its dependencies' outcomes: run, or complete as skipped (with why) or upstream_failed.
 */
function triggerDecision(
  def: ExecutionDefinition,
  task: CompiledTask,
  statuses: ReadonlyMap<string, string>,
  outputs: ReadonlyMap<string, unknown>,
): { decision: 'run' | 'skipped' | 'upstream_failed'; reason?: SkipReason } {
  if (task.deps.length === 0) return { decision: 'run' };
  const edges = task.deps.map((d) => {
    const status = statuses.get(d) ?? '';
    const branch = task.branches?.[d];
    const result = (outputs.get(d) as { result?: unknown } | undefined)?.result;
    return { status, branch, outcome: edgeOutcome(status, taskOf(def, d)?.failsWorkflow ?? true, branch, result) };
  });
  const outcomes = edges.map((edge) => edge.outcome);
  const decision = decide(task, outcomes);
  return decision === 'skipped' ? { decision, reason: skipReasonOf(edges) } : { decision };
}

/** The failure recorded for an exit handler stopped at the end of its grace period. */
const EXIT_STOPPED = "stopped: the run's exit handlers ran past their grace period (EXIT_GRACE_PERIOD)";

/** Parameters resolved in the task's scope, except those that are a scope of their own (kept as written). */
function resolveOuter(
  literal: readonly string[] | undefined,
  source: { parameters?: Record<string, unknown> },
  scope: Record<string, unknown>,
): unknown {
  const parameters = source.parameters ?? {};
  if (!literal) return resolveValue(parameters, scope);
  const outer = Object.fromEntries(Object.entries(parameters).filter(([key]) => !literal.includes(key)));
  const resolved = resolveValue(outer, scope) as Record<string, unknown>;
  for (const key of literal) if (Object.hasOwn(parameters, key)) resolved[key] = parameters[key];
  return resolved;
}

/** What every log line of a task attempt carries. */
function logFields(def: ExecutionDefinition, task: string, attempt: number): Record<string, unknown> {
  return {
    execution_id: def.executionId,
    task_id: task,
    correlation_id: def.correlationId,
    request_id: def.requestId,
    attempt,
  };
}
