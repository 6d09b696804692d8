import {
  type ControlContext,
  type TaskHandler,
  type TemplateDefinition,
  taskTypeOf,
  type WaitingJob,
} from '@orch/core';
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
import {
  branchOff,
  branchStarts,
  type Carry,
  carriedBy,
  inlinable,
  inlineStart,
  startingBeside,
} from './inline-continuation';
import { PARKED_MS } from './parked-jobs';
import type { RunKernel } from './run-kernel';
import { runWithDeadline, TaskTimeoutError } from './run-with-deadline';
import { SubTaskRunner } from './sub-task-runner';
import {
  attemptEnd,
  errorText,
  isPermanent,
  lockLost,
  timedOut,
  WORKFLOW_ABORT,
  WorkflowAbortError,
} from './task-errors';
import type { TaskContext } from './task-handler';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskOutcome } from './task-observer';
import { checkParameters, moduleOf } from './task-parameters';

/** Resolves a template reference (`id` or `id@version`); throws NotFoundError. */
export type TemplateResolver = (reference: string) => TemplateDefinition;

export { lockLost, TASK_TIMEOUT, WORKFLOW_ABORT, WorkflowAbortError } from './task-errors';

const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** The job an attempt runs in (its own, or for an inline attempt its carrier's), and its log. */
interface JobRun {
  job: Job<TaskJobData>;
  token: string | undefined;
  signal: AbortSignal | undefined;
  attemptLog: AttemptLog;
  /** Set for an inline attempt: `job` is the carrier, the job of a task this one depends on. */
  inline?: true;
  /** An inline attempt's log, by its attempt number (known once it starts). */
  logOf?: (attempt: number) => AttemptLog;
  /** Where a completion leaves the ready dependent this job runs next, inline (when continuation is on). */
  carry?: Carry;
}

/** Runs task and sub-task jobs: checkpoint replay, trigger rules, parameters, handler, completion and release. */
export class TaskRunner {
  /** What every waiting task's context is built from. */
  private readonly controls: Pick<ControlScope, 'ctx' | 'kernel' | 'templates'>;
  private readonly gates: ConcurrencyGates;
  private readonly subTasks: SubTaskRunner;

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
    this.subTasks = new SubTaskRunner(ctx, this.gates, logger, (type) => this.handlerOf(type));
  }

  /** Runs one task job; resolves to the task's outcome (thrown errors are retries, parks and failures). */
  async runTask(
    job: Job<TaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    attemptLog: AttemptLog,
    carry?: Carry,
  ): Promise<TaskOutcome> {
    const { e, t, d } = job.data;
    const def = await this.ctx.store.definition(e, d);
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
   * Runs `taskId` (chosen by `inlinable`) in `carrier`, the job of a task whose completion made it ready: journaled
   * as a job's attempt is, without a job of its own (a lost carrier's re-run releases it again: see `replay`).
   */
  async runInline(
    carrier: Job,
    taskId: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
    logOf: (attempt: number) => AttemptLog,
    carry: Carry,
  ): Promise<TaskOutcome> {
    const def = await this.ctx.store.definition((carrier.data as TaskJobData).e);
    const task = taskOf(def, taskId) as CompiledTask;
    const site: JobRun = { job: carrier as Job<TaskJobData>, token, signal, attemptLog: logOf(1), inline: true, carry };
    site.logOf = logOf;
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
    const reply = await this.start(def, task, site, asked, wanted);
    const { runStatus, recorded } = reply;
    const attempt = reply.attempt || asked;
    // An inline attempt counted past a lost one logs under its own number.
    if (site.logOf && attempt !== asked) site.attemptLog = site.logOf(attempt);
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

  /** Marks the attempt running and reads its inputs (start-task), unless the completion before it did (inline). */
  private start(def: ExecutionDefinition, task: CompiledTask, site: JobRun, asked: number, wanted: readonly string[]) {
    const carrier = { jobId: site.job.id as string, token: site.token ?? '' };
    const { carry } = site;
    if (carry) carry.carrier ??= carrier;
    const pre = site.inline && carry?.started?.taskId === task.id ? carry.started.reply : undefined;
    if (carry) carry.started = undefined;
    if (pre) return Promise.resolve(pre);
    const start = { taskId: task.id, attempt: asked, worker: this.workerName, wanted, reads: task.reads };
    return this.ctx.store.scripts.startTask(def.executionId, site.inline ? { ...start, carrier } : start);
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
    const start = carry ? inlineStart(def, task, carry, this.workerName) : undefined;
    // The branches beside it start in the same call, each in a slot borrowed for it (given back unless started).
    const beside = carry && start ? branchStarts(def, task, carry, start, this.workerName) : [];
    const reply = await startingBeside(carry, beside, () =>
      this.ctx.store.scripts.completeTask(e, {
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
        starts: start ? [start, ...beside] : undefined,
      }),
    );
    const { runStatus, triggeredFailFast, allRecorded, ready } = reply;
    const started = start && reply.started.get(start.taskId);
    // The slot first: whoever waited for it was ready before the dependents this completion releases.
    await this.gates.leave(e, { member: task.id }, taskGates(def, task), status === 'failed' ? 'failed' : 'completed');
    if (triggeredFailFast) await this.kernel.broadcastAbort(e);
    // One ready dependent may run next in this job (inline continuation), started by the script when it was the one
    // asked for; others run beside it while the worker has free slots (branches); the rest are added as jobs first.
    if (carry && start && started) {
      carry.next = start.taskId;
      carry.started = { taskId: start.taskId, reply: started };
      await this.kernel.release(def, branchOff(def, task, ready, carry));
    } else {
      const i = carry?.inline && carry.next === undefined ? ready.findIndex((d) => inlinable(def, task, d)) : -1;
      if (carry && i >= 0) carry.next = ready[i];
      const rest = i >= 0 ? ready.filter((_, j) => j !== i) : ready;
      await this.kernel.release(def, carry ? branchOff(def, task, rest, carry) : rest);
    }
    // The last task of a running run: the job ends the run once its attempts' logs are closed (PartitionWorker).
    if (allRecorded && runStatus === 'running' && carry) {
      const root = carry.root ?? carry;
      [root.lastTask, root.end] = [true, reply.end];
    }
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
  runSubTask(
    job: Job<SubTaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    attemptLog: AttemptLog,
  ): Promise<unknown> {
    return this.subTasks.run(job, token, signal, attemptLog);
  }
}
