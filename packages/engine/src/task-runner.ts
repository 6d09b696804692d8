import {
  ajv,
  formatAjvErrors,
  parseDuration,
  prepareFromTemplate,
  prepareInline,
  type SubTaskDefinition,
  TASK_CATALOG,
  type TaskDefinition,
  type TemplateDefinition,
} from '@orch/core';
import { OrchestratorError, ValidationError } from '@orch/errors';
import { resolveValue } from '@orch/expressions';
import type { Logger } from '@orch/logger';
import { DelayedError, type Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { type HandledTaskType, isControlFlow, type TaskHandlers } from './control-flow';
import type { CompiledTask, ExecutionDefinition } from './execution-definition';
import { TERMINAL_STATUSES } from './execution-record';
import {
  APPROVAL_TIMEOUT_MS,
  type ApprovalDecision,
  approvalField,
  childField,
  MAX_WORKFLOW_DEPTH,
  PARKED_MS,
} from './parked-jobs';
import { hotData, sourceOf } from './run-index';
import { runWithDeadline } from './run-with-deadline';
import { PermanentTaskError, type TaskContext } from './task-handler';
import type { TaskOutcome } from './task-observer';
import { decide, edgeOutcome } from './trigger-rules';
import type { TaskJobData, WorkflowEngine } from './workflow-engine';

/** Resolves a template reference (`id` or `id@version`); throws NotFoundError. */
export type TemplateResolver = (reference: string) => TemplateDefinition;

/** Data of a parallel sub-task job: its parameters are resolved when the parallel task adds it. */
export interface SubTaskJobData {
  e: string;
  t: string;
  i: number;
  type: HandledTaskType;
  params: Record<string, unknown>;
  timeoutMs?: number;
  bp?: [string, number, number, number];
  /** The run's request id, for the sub-task's log lines. */
  rid?: string;
}

/** Abort reasons sent through BullMQ's cancelJob: the run is ending, so the task must not be retried. */
export const WORKFLOW_ABORT = 'workflow-abort';
/** Abort reason when recovery finds a job past its timeout: it fails the attempt, which is retried per policy. */
export const TASK_TIMEOUT = 'task-timeout';

/** A task or sub-task stopped because its run is ending (cancel, timeout, fail-fast): never retried. */
export class WorkflowAbortError extends UnrecoverableError {}

const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const MAX_ERROR_CHARS = 2000;

const checkers = new Map<string, ReturnType<typeof ajv.compile>>();
function checkParameters(type: HandledTaskType, params: unknown, task: string): void {
  let check = checkers.get(type);
  if (!check) {
    check = ajv.compile(TASK_CATALOG[type].schema);
    checkers.set(type, check);
  }
  if (!check(params)) {
    const details = formatAjvErrors(check.errors, '/parameters');
    throw new ValidationError(
      `task ${task}: parameters are invalid after evaluation: ${details.map((d) => `${d.pointer} ${d.message}`).join('; ')}`,
      details,
    );
  }
}

/** Runs task and sub-task jobs: checkpoint replay, trigger rules, parameters, handler, completion and release. */
export class TaskRunner {
  constructor(
    private readonly engine: WorkflowEngine,
    private readonly handlers: TaskHandlers,
    private readonly logger: Logger,
    /** Recorded on each attempt, so a run shows which worker ran what. */
    private readonly workerName: string,
    /** Finds `id` or `id@version` in the template catalog, for `workflow` tasks. */
    private readonly templates?: TemplateResolver,
  ) {}

  /** Runs one task job; resolves to the task's outcome (thrown errors are retries, parks and failures). */
  async runTask(
    job: Job<TaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TaskOutcome> {
    const { e, t } = job.data;
    const def = await this.engine.store.definition(e);
    const task = def.tasks[t];
    if (!task) throw new UnrecoverableError(`task ${t} is not part of execution ${e}`);
    const attempt = job.attemptsMade + 1;
    const hot = hotData(def, this.engine);
    const wanted = hot.wanted(task);
    const k = this.engine.keys;
    const reply = await this.engine.scripts.startTask(hot.startKeys, [
      t,
      attempt,
      Date.now(),
      this.workerName,
      wanted.length,
      ...wanted,
      ...task.reads,
    ]);
    const [runStatus = '', recorded = '', recordedOutput = ''] = reply;
    if (recorded) {
      // A re-run after a crash: the completion is recorded, so replay its release instead of running again.
      await this.complete(def, task, recorded, recordedOutput || undefined, undefined, 0);
      if (recorded === 'failed') throw new UnrecoverableError(`task ${t} failed (recorded before a restart)`);
      return recorded as TaskOutcome;
    }
    if (runStatus === 'paused') {
      // Park the job until resume promotes it; it holds no worker meanwhile.
      await job.moveToDelayed(Date.now() + PARKED_MS, token);
      throw new DelayedError();
    }
    if (runStatus !== 'running') return 'not_running'; // the run is ending; its workflow job marks what never ran
    const statuses = new Map(wanted.map((id, i) => [id, reply[3 + i] ?? '']));
    const outputs: Record<string, unknown> = {};
    task.reads.forEach((id, i) => {
      const raw = reply[3 + wanted.length + i];
      outputs[id] = raw ? JSON.parse(raw) : undefined;
    });

    if (task.deps.length > 0) {
      const outcomes = task.deps.map((d) =>
        edgeOutcome(
          statuses.get(d) ?? '',
          def.tasks[d]?.failsWorkflow ?? true,
          task.branches?.[d],
          (outputs[d] as { result?: unknown })?.result,
        ),
      );
      const decision = decide(task, outcomes);
      if (decision !== 'run') {
        await this.complete(def, task, decision, undefined, undefined, 0);
        return decision;
      }
    }

    // A child logger per task is measurable at thousands of tasks a second: made only when something is logged.
    let child: Logger | undefined;
    const log = () =>
      (child ??= this.logger.child({
        execution_id: e,
        task_id: t,
        correlation_id: def.correlationId,
        request_id: def.requestId,
        attempt,
      }));
    let output: unknown;
    try {
      const scope = await this.scope(def, task, statuses, outputs);
      output = await this.execute(job, token, signal, def, task, attempt, scope, log);
    } catch (error) {
      if (error instanceof DelayedError || error instanceof WaitingChildrenError) throw error;
      if (signal?.aborted && signal.reason === WORKFLOW_ABORT) {
        throw new WorkflowAbortError(`task ${t} aborted: the workflow is ending`);
      }
      const message = errorText(error);
      const permanent = isPermanent(error);
      if (!permanent && attempt < task.attempts) {
        log().warn('task attempt failed; it will be retried', { error: message });
        await this.engine.redis.xadd(
          k.events(e),
          '*',
          'type',
          'task.retrying',
          'task',
          t,
          'attempt',
          String(attempt),
          'at',
          String(Date.now()),
          'error',
          message,
        );
        throw error;
      }
      log().error('task failed', { error: message, permanent });
      await this.complete(def, task, 'failed', undefined, message, attempt);
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

  /** Records the completion (once) and adds the dependents it made ready; fail-fast aborts the rest of the run. */
  private async complete(
    def: ExecutionDefinition,
    task: CompiledTask,
    status: string,
    outputJson: string | undefined,
    error: string | undefined,
    attempt: number,
  ): Promise<void> {
    const e = def.executionId;
    const failFast = status === 'failed' && def.failFast && task.failsWorkflow ? '1' : '0';
    const [, triggered, ...ready] = await this.engine.scripts.completeTask(hotData(def, this.engine).keys, [
      task.id,
      status,
      outputJson ?? '',
      error ?? '',
      Date.now(),
      attempt,
      failFast,
      ...task.dependents,
    ]);
    if (triggered === '1') await this.engine.broadcastAbort(e);
    await this.engine.release(def, ready);
  }

  /** Variables, plus `{output, status, error}` of every task this one reads. */
  private async scope(
    def: ExecutionDefinition,
    task: CompiledTask,
    statuses: Map<string, string>,
    outputs: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const scope: Record<string, unknown> = { ...def.variables };
    const failed = task.reads.filter((r) => statuses.get(r) === 'failed');
    const errors =
      failed.length > 0 ? await this.engine.redis.hmget(this.engine.keys.tasks(def.executionId), ...failed) : [];
    const errorOf = new Map(
      failed.map((r, i) => [r, errors[i] ? (JSON.parse(errors[i] as string) as { e?: string }).e : undefined]),
    );
    for (const r of task.reads)
      scope[r] = { output: outputs[r], status: statuses.get(r) || 'pending', error: errorOf.get(r) };
    return scope;
  }

  private async execute(
    job: Job<TaskJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    def: ExecutionDefinition,
    task: CompiledTask,
    attempt: number,
    scope: Record<string, unknown>,
    logger: () => Logger,
  ): Promise<unknown> {
    const source = sourceOf(def, task.id);
    // A parallel task's sub-tasks see `item` and `index`, so they are resolved per sub-task, not here.
    if (task.type === 'parallel') return this.parallel(job, token, def, task, source, attempt, scope);
    const params = resolveValue(source.parameters ?? {}, scope) as Record<string, unknown>;
    if (task.type === 'delay') return this.delay(job, token, params);
    if (task.type === 'approval') return this.approval(job, token, def, task);
    if (task.type === 'workflow') return this.subWorkflow(job, token, def, task, params, attempt);
    if (isControlFlow(task.type)) throw new UnrecoverableError(`no runner for ${task.type}`);
    const type = task.type as HandledTaskType;
    if (type === 'condition' && source.condition !== undefined) {
      const text = source.condition.includes('${') ? source.condition : `\${${source.condition}}`;
      params.condition = resolveValue(text, scope);
    }
    checkParameters(type, params, task.id);
    const context: TaskContext = {
      executionId: def.executionId,
      taskId: task.id,
      correlationId: def.correlationId,
      attempt,
      signal: signal as AbortSignal,
      get logger() {
        return logger();
      },
    };
    return runWithDeadline(this.handlers[type], params, context, signal, task.timeoutMs, task.id);
  }

  /** A delay parks its job as a BullMQ delayed job; no worker waits. Its second run completes it. */
  private async delay(
    job: Job<TaskJobData>,
    token: string | undefined,
    params: Record<string, unknown>,
  ): Promise<unknown> {
    const ms = parseDuration(params.duration, 'delay duration');
    if (job.data.until === undefined) {
      const until = Date.now() + ms;
      await job.updateData({ ...job.data, until });
      await job.moveToDelayed(until, token);
      throw new DelayedError();
    }
    if (Date.now() < job.data.until) {
      // Promoted early (by a dashboard, say) while the run goes on: wait out the rest.
      await job.moveToDelayed(job.data.until, token);
      throw new DelayedError();
    }
    return { delayed_ms: ms };
  }

  /**
   * An approval parks its job until a decision promotes it (or its timeout, default 7 days, passes). The decision is
   * stored first, so one made before the job runs is found on its first run.
   */
  private async approval(
    job: Job<TaskJobData>,
    token: string | undefined,
    def: ExecutionDefinition,
    task: CompiledTask,
  ): Promise<unknown> {
    const raw = await this.engine.redis.hget(this.engine.keys.tasks(def.executionId), approvalField(task.id));
    if (raw) {
      const decision = JSON.parse(raw) as ApprovalDecision;
      if (decision.decision === 'approve')
        return { approved: true, by: decision.by ?? null, at: decision.at, payload: decision.payload ?? null };
      const reason = (decision.payload as { reason?: unknown } | undefined)?.reason;
      throw new PermanentTaskError(
        `rejected${decision.by ? ` by ${decision.by}` : ''}${typeof reason === 'string' ? `: ${reason}` : ''}`,
      );
    }
    const timeout = task.timeoutMs ?? APPROVAL_TIMEOUT_MS;
    const until = job.data.until ?? Date.now() + timeout;
    if (job.data.until === undefined) await job.updateData({ ...job.data, until });
    if (Date.now() >= until) throw new PermanentTaskError(`no decision within ${timeout} ms`);
    await job.moveToDelayed(until, token);
    throw new DelayedError();
  }

  /**
   * A `workflow` task starts a child run (idempotently: its correlation id is this task attempt) and parks until the
   * child's end promotes it. Completed: the output is the child's task outputs. Failed: the attempt fails, and a
   * retry starts a new child run.
   */
  private async subWorkflow(
    job: Job<TaskJobData>,
    token: string | undefined,
    def: ExecutionDefinition,
    task: CompiledTask,
    params: Record<string, unknown>,
    attempt: number,
  ): Promise<unknown> {
    const depth = (def.depth ?? 0) + 1;
    if (depth > MAX_WORKFLOW_DEPTH) {
      throw new PermanentTaskError(
        `sub-workflow depth limit ${MAX_WORKFLOW_DEPTH} reached at task ${task.id}; does a template run itself?`,
      );
    }
    let child = job.data.child;
    if (!child || job.data.childAttempt !== attempt) {
      if (!this.templates && params.template !== undefined)
        throw new PermanentTaskError('this worker has no template catalog');
      const variables = (params.variables ?? {}) as Record<string, unknown>;
      const prepared =
        typeof params.template === 'string'
          ? prepareFromTemplate((this.templates as TemplateResolver)(params.template), variables)
          : prepareInline(params.workflow, variables, '/parameters/workflow');
      const submitted = await this.engine.submit(prepared, {
        correlationId: `${def.executionId}.${task.id}.${attempt}`,
        parent: { executionId: def.executionId, taskId: task.id, jobId: job.id as string, depth },
        requestId: def.requestId,
      });
      child = submitted.executionId;
      await this.engine.redis.hset(this.engine.keys.tasks(def.executionId), childField(task.id), child);
      await job.updateData({ ...job.data, child, childAttempt: attempt });
    }
    const status = await this.engine.redis.hget(this.engine.keys.meta(child), 'status');
    if (!status || !TERMINAL_STATUSES.has(status)) {
      await job.moveToDelayed(Date.now() + PARKED_MS, token);
      throw new DelayedError();
    }
    const record = await this.engine.get(child);
    if (record.status !== 'completed')
      throw new Error(`sub-workflow ${child} ${record.status}: ${record.error ?? 'no error recorded'}`);
    const outputs = Object.fromEntries(
      record.tasks.filter((t) => t.status === 'completed').map((t) => [t.id, t.output]),
    );
    return { execution_id: child, status: record.status, outputs };
  }

  /**
   * A parallel task adds one child job per sub-task and waits, holding no worker, until they are all done
   * (BullMQ's step-job pattern); its output is their outputs in declared order.
   */
  private async parallel(
    job: Job<TaskJobData>,
    token: string | undefined,
    def: ExecutionDefinition,
    task: CompiledTask,
    source: TaskDefinition,
    attempt: number,
    scope: Record<string, unknown>,
  ): Promise<unknown> {
    if (job.data.step !== 'children') {
      const subs = this.subTasks(source, scope);
      const parent = { id: job.id as string, queue: job.queueQualifiedName };
      await this.engine.queues.tasks.addBulk(
        subs.map((sub, i) => {
          const data: SubTaskJobData = {
            e: def.executionId,
            t: task.id,
            i,
            type: sub.type as HandledTaskType,
            params: sub.parameters ?? {},
          };
          if (sub.timeout !== undefined) data.timeoutMs = parseDuration(sub.timeout);
          if (task.backoff) data.bp = task.backoff;
          if (def.requestId) data.rid = def.requestId;
          return {
            name: 'subtask',
            data,
            opts: {
              jobId: `${job.id}.${attempt}.${i}`,
              parent,
              attempts: task.attempts,
              ...(task.backoff ? { backoff: { type: 'orch' } } : {}),
              ignoreDependencyOnFailure: true,
              removeOnComplete: { age: this.engine.ttlSeconds },
              removeOnFail: { age: this.engine.ttlSeconds },
            },
          };
        }),
      );
      await job.updateData({ ...job.data, step: 'children' });
      if (await job.moveToWaitingChildren(token as string)) throw new WaitingChildrenError();
    }
    const failures = await job.getIgnoredChildrenFailures();
    const failed = Object.entries(failures);
    if (failed.length > 0) {
      const [key, reason] = failed[0] as [string, string];
      throw new PermanentTaskError(
        `${failed.length} sub-task(s) failed; ${key.slice(key.lastIndexOf(':') + 1)}: ${reason}`,
      );
    }
    const values = await job.getChildrenValues();
    const ordered: unknown[] = [];
    for (const [key, value] of Object.entries(values)) ordered[Number(key.slice(key.lastIndexOf('.') + 1))] = value;
    return ordered;
  }

  private subTasks(source: TaskDefinition, scope: Record<string, unknown>): SubTaskDefinition[] {
    const params = (source.parameters ?? {}) as {
      tasks?: SubTaskDefinition[];
      for_each?: unknown;
      task?: SubTaskDefinition;
    };
    if (params.tasks)
      return params.tasks.map((sub) => ({
        ...sub,
        parameters: resolveValue(sub.parameters ?? {}, scope) as Record<string, unknown>,
      }));
    const items = typeof params.for_each === 'string' ? resolveValue(params.for_each, scope) : params.for_each;
    if (!Array.isArray(items))
      throw new PermanentTaskError(`for_each of task ${source.id} must be a list; got ${typeof items}`);
    if (items.length > 10_000)
      throw new PermanentTaskError(`for_each of task ${source.id} has ${items.length} items; the limit is 10000`);
    const template = params.task as SubTaskDefinition;
    return items.map((item, index) => ({
      ...template,
      parameters: resolveValue(template.parameters ?? {}, { ...scope, item, index }) as Record<string, unknown>,
    }));
  }

  /** A sub-task of a parallel task: the run must still be running; its output is the job's return value. */
  async runSubTask(
    job: Job<SubTaskJobData>,
    _token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const { e, t, i, type } = job.data;
    const status = await this.engine.redis.hget(this.engine.keys.meta(e), 'status');
    if (status !== 'running')
      throw new UnrecoverableError(`sub-task ${t}[${i}] not started: the workflow is ${status}`);
    const attempt = job.attemptsMade + 1;
    const logger = this.logger.child({ execution_id: e, task_id: `${t}[${i}]`, attempt, request_id: job.data.rid });
    try {
      checkParameters(type, job.data.params, `${t}[${i}]`);
      const context: TaskContext = {
        executionId: e,
        taskId: `${t}[${i}]`,
        attempt,
        signal: signal as AbortSignal,
        logger,
      };
      return await runWithDeadline(
        this.handlers[type],
        job.data.params,
        context,
        signal,
        job.data.timeoutMs,
        `${t}[${i}]`,
      );
    } catch (error) {
      if (signal?.aborted && signal.reason === WORKFLOW_ABORT)
        throw new WorkflowAbortError('aborted: the workflow is ending');
      if (isPermanent(error)) throw new UnrecoverableError(errorText(error));
      throw error;
    }
  }
}

function isPermanent(error: unknown): boolean {
  return (
    error instanceof PermanentTaskError ||
    error instanceof UnrecoverableError ||
    error instanceof ValidationError ||
    (error instanceof OrchestratorError && error.code === 'EXPRESSION_ERROR')
  );
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
