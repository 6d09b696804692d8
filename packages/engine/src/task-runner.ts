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
import { EXIT_STOPPED, inputsOf, logFields, resolveOuter, triggerDecision } from './attempt-inputs';
import type { AttemptLog } from './attempt-log';
import { ConcurrencyGates, taskGates } from './concurrency-gates';
import { attemptDeadline, type ControlScope, controlContext, waitingJob } from './control-context';
import type { TaskHandlers } from './control-flow';
import { sourceOf, wantedBy } from './definition-lookups';
import type { EngineContext } from './engine-context';
import { type CompiledTask, type ExecutionDefinition, taskCountOf, taskOf } from './execution-definition';
import { type Carry, carriedBy, inlinable } from './inline-continuation';
import { PARKED_MS } from './parked-jobs';
import type { RunKernel } from './run-kernel';
import { runWithDeadline, TaskTimeoutError } from './run-with-deadline';
import type { StartTaskInput } from './script-inputs';
import { attemptEnd, errorText, isPermanent, lockLost, timedOut } from './task-errors';
import type { TaskContext } from './task-handler';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskOutcome } from './task-observer';
import { checkParameters, moduleOf } from './task-parameters';

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

/** The job an attempt runs in (its own, or for an inline attempt its carrier's), and its log. */
interface JobRun {
  job: Job<TaskJobData>;
  token: string | undefined;
  signal: AbortSignal | undefined;
  attemptLog: AttemptLog;
  /** Set for an inline attempt: `job` is the carrier, the job of a task this one depends on. */
  inline?: true;
  /** Where a completion leaves the ready dependent this job runs next, inline (when continuation is on). */
  carry?: Carry;
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
    carry?: Carry,
  ): Promise<TaskOutcome> {
    const { e, t } = job.data;
    const def = await this.ctx.store.definition(e);
    const task = taskOf(def, t);
    if (!task) throw new UnrecoverableError(`task ${t} is not part of execution ${e}`);
    // BullMQ's attempt drives retries; the record's counts every run, re-runs after a lost worker too (stalledCounter).
    const retry = job.attemptsMade + 1;
    const attempt = retry + (job.stalledCounter ?? 0);
    // Under the run's max_concurrency, a slot first: until one is free the job waits parked.
    if (!(await this.gates.enterTask(job, token, def, task))) throw new DelayedError();
    return this.attempt(def, task, { job, token, signal, attemptLog, carry }, retry, attempt);
  }

  /**
   * Runs `taskId` inline in `carrier`, the job of a task it depends on whose completion made it ready: journaled
   * exactly as a job's attempt (start and completion records, events), without a job of its own. Only tasks
   * `inlinable` chose run so. If the carrier's worker dies meanwhile, the carrier's re-run replays its completion,
   * which re-adds this task as a job (see `replay`).
   */
  async runInline(
    carrier: Job,
    taskId: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
    attemptLog: AttemptLog,
    carry: Carry,
  ): Promise<TaskOutcome> {
    const def = await this.ctx.store.definition((carrier.data as TaskJobData).e);
    const task = taskOf(def, taskId) as CompiledTask;
    const site: JobRun = { job: carrier as Job<TaskJobData>, token, signal, attemptLog, inline: true, carry };
    return this.attempt(def, task, site, 1, 1);
  }

  /** One attempt of `task` in `site`: checkpoint replay, trigger rule, condition, handler, completion. */
  private async attempt(
    def: ExecutionDefinition,
    task: CompiledTask,
    site: JobRun,
    retry: number,
    asked: number,
  ): Promise<TaskOutcome> {
    const { job, token, signal } = site;
    const t = task.id;
    const e = def.executionId;
    const wanted = wantedBy(def, task);
    const carrier = { jobId: job.id as string, token: token ?? '' };
    const { carry } = site;
    if (carry) carry.carrier ??= carrier;
    // An inline attempt may have been started already, by the completion that made it ready (one script call).
    const pre = site.inline && carry?.started?.taskId === t ? carry.started.reply : undefined;
    if (carry) carry.started = undefined;
    const start = { taskId: t, attempt: asked, worker: this.workerName, wanted, reads: task.reads };
    const reply = pre ?? (await this.ctx.store.scripts.startTask(e, site.inline ? { ...start, carrier } : start));
    const { runStatus, recorded } = reply;
    const attempt = reply.attempt || asked;
    if (recorded) {
      // A re-run after a crash: the completion is recorded, so replay its release instead of running again.
      await this.replay(def, task, recorded.status, recorded.output, site);
      if (recorded.status === 'failed') throw new UnrecoverableError(`task ${t} failed (recorded before a restart)`);
      return recorded.status;
    }
    if (runStatus === 'paused') {
      // An inline task goes to the queue as a job, which parks like any other.
      if (site.inline) {
        await this.kernel.release(def, [t]);
        return 'parked';
      }
      // Park the job until resume promotes it; it holds no worker meanwhile.
      await job.moveToDelayed(Date.now() + PARKED_MS, token);
      throw new DelayedError();
    }
    // The run is ending (its workflow job marks what never ran), unless this is one of its exit handlers.
    if (runStatus !== 'running' && !(runStatus === 'exiting' && task.exit)) return 'not_running';
    const { statuses, outputs } = inputsOf(wanted, task.reads, reply);
    const { decision, reason } = triggerDecision(def, task, statuses, outputs);
    if (decision !== 'run') {
      await this.complete(def, task, decision, undefined, undefined, 0, reason, site.carry);
      return decision;
    }
    // A child logger per task is measurable at thousands of tasks a second: made only when something is logged.
    let child: Logger | undefined;
    const log = () => (child ??= this.logger.child(logFields(def, t, attempt)));
    let output: unknown;
    try {
      const scope = await this.scope(def, task, statuses, outputs);
      if (await this.skippedByCondition(def, task, scope, site.carry)) return 'skipped';
      output = await this.execute(site, def, task, { retry, attempt }, scope, log);
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
      await this.complete(def, task, 'failed', undefined, message, attempt, timedOut(error), site.carry);
      throw new UnrecoverableError(message);
    }
    const json = JSON.stringify(output ?? null);
    if (json.length > MAX_OUTPUT_BYTES) {
      const message = `task ${t} output is ${json.length} bytes; the limit is ${MAX_OUTPUT_BYTES}`;
      await this.complete(def, task, 'failed', undefined, message, attempt, undefined, site.carry);
      throw new UnrecoverableError(message);
    }
    await this.complete(def, task, 'completed', json, undefined, attempt, undefined, site.carry);
    return 'completed';
  }

  /**
   * Replays a recorded completion's release. Dependents this job carried inline and that completed have their own
   * release replayed too (it may be what the lost worker did not get to); a carried one that did not complete is
   * released again, as a job or inline.
   */
  private async replay(
    def: ExecutionDefinition,
    task: CompiledTask,
    status: TaskFinalStatus,
    output: string | undefined,
    site: JobRun,
  ): Promise<void> {
    await this.complete(def, task, status, output, undefined, 0, undefined, site.carry);
    const carried = await carriedBy(this.ctx, def.executionId, task.dependents, site.job.id as string);
    for (const [d, recorded] of carried) {
      const next = taskOf(def, d);
      if (next) await this.replay(def, next, recorded, undefined, site);
    }
  }

  /** The task's own condition (Argo's `when`): false skips it, as a condition task's other branch is. */
  private async skippedByCondition(
    def: ExecutionDefinition,
    task: CompiledTask,
    scope: Record<string, unknown>,
    carry?: Carry,
  ): Promise<boolean> {
    if (task.when === undefined || resolveValue(task.when, scope)) return false;
    await this.complete(def, task, 'skipped', undefined, undefined, 0, 'condition false', carry);
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
    carry?: Carry,
  ): Promise<void> {
    const e = def.executionId;
    const start = carry ? this.inlineStart(def, task, carry) : undefined;
    const reply = await this.ctx.store.scripts.completeTask(e, {
      taskId: task.id,
      status,
      output,
      error,
      attempt,
      // An exit handler's failure is recorded; it does not change how the run ends.
      failFast: status === 'failed' && def.failFast && task.failsWorkflow && !task.exit,
      reason,
      dependents: task.dependents,
      // Runs with exit handlers end through their workflow job (it runs the handlers as its children).
      taskCount: def.exitTasks ? undefined : taskCountOf(def),
      start,
    });
    const { runStatus, triggeredFailFast, allRecorded, ready, started } = reply;
    // The slot first: whoever waited for it was ready before the dependents this completion releases.
    await this.gates.leave(e, { member: task.id }, taskGates(def, task), status === 'failed' ? 'failed' : 'completed');
    if (triggeredFailFast) await this.kernel.broadcastAbort(e);
    // One ready dependent may run next in this job (inline continuation), started by the script when it was the one
    // asked for; the rest are added as jobs first.
    if (carry && start && started) {
      carry.next = start.taskId;
      carry.started = { taskId: start.taskId, reply: started };
      await this.kernel.release(def, ready);
    } else {
      const i = carry?.inline && carry.next === undefined ? ready.findIndex((d) => inlinable(def, task, d)) : -1;
      if (carry && i >= 0) carry.next = ready[i];
      await this.kernel.release(def, i >= 0 ? ready.filter((_, j) => j !== i) : ready);
    }
    // The last task of a running run: the job ends the run once its attempts' logs are closed (PartitionWorker).
    if (allRecorded && runStatus === 'running' && carry) carry.lastTask = true;
  }

  /**
   * What complete-task needs to start the dependent this job would carry on with, in the same call: the first of
   * the task's dependents that may run inline and depends on it alone, so this completion makes it ready (a join's
   * start would carry all its dependencies in every call; a ready one is still carried, after its own start-task).
   */
  private inlineStart(def: ExecutionDefinition, task: CompiledTask, carry: Carry): StartTaskInput | undefined {
    if (!carry.inline || carry.next !== undefined || !carry.carrier) return undefined;
    const next = task.dependents.find((d) => taskOf(def, d)?.deps.length === 1 && inlinable(def, task, d));
    const compiled = next === undefined ? undefined : taskOf(def, next);
    if (!compiled) return undefined;
    const wanted = wantedBy(def, compiled);
    return {
      taskId: compiled.id,
      attempt: 1,
      worker: this.workerName,
      wanted,
      reads: compiled.reads,
      carrier: carry.carrier,
    };
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
