import {
  type ControlContext,
  prepareFromTemplate,
  prepareInline,
  type SubTaskSpec,
  type TemplateDefinition,
  type WaitingJob,
} from '@orch/core';
import { isFinalStatus } from '@orch/run-model';
import { carrierOf } from '@orch/tracing';
import { DelayedError, type Job, WaitingChildrenError } from 'bullmq';
import { itemGates } from './concurrency-gates';
import type { EngineContext } from './engine-context';
import type { CompiledTask, ExecutionDefinition } from './execution-definition';
import { kernelOf, type RunKernel } from './run-kernel';
import { jobIds, type SubTaskJobData, type TaskJobData } from './task-job';

/** A parked waiting task looks again this often even when nothing wakes it (see `park`). */
export const RECHECK_MS = 5_000;

/**
 * The BullMQ side of one waiting task's job: its state in the job data, and parking it as a delayed job, never past
 * `deadline` (the attempt's timeout), so the job runs again when the attempt times out.
 */
export function waitingJob<State>(
  job: Job<TaskJobData>,
  token: string | undefined,
  deadline = Number.POSITIVE_INFINITY,
): WaitingJob<State> {
  const sleepUntil = async (at: number): Promise<never> => {
    await job.moveToDelayed(Math.min(at, deadline), token);
    throw new DelayedError();
  };
  return {
    id: job.id as string,
    state: job.data as unknown as Partial<State>,
    save: (state) => job.updateData({ ...job.data, ...state }),
    sleepUntil,
    // Woken at once by what it waits for (a child run's end promotes it), and in any case after RECHECK_MS: a wake
    // can miss, when the child ends between the check and the park, or is lost with a primary's unreplicated writes.
    park: () => sleepUntil(Date.now() + RECHECK_MS),
  };
}

export interface ControlScope {
  ctx: EngineContext;
  kernel: RunKernel;
  def: ExecutionDefinition;
  task: CompiledTask;
  attempt: number;
  job: Job<TaskJobData>;
  token: string | undefined;
  templates?: (reference: string) => TemplateDefinition;
}

/** What waiting task types may do, over the run store, the kernel and the task's BullMQ job. */
export function controlContext(scope: ControlScope): ControlContext {
  const { ctx, def, task, attempt, job, token, templates } = scope;
  const id = def.executionId;
  return {
    executionId: id,
    taskId: task.id,
    attempt,
    timeoutMs: task.timeoutMs,
    depth: def.depth ?? 0,
    maxDepth: ctx.limits.maxSubworkflowDepth,
    note: (name) => ctx.store.note(id, name, task.id),
    setNote: (name, value) => ctx.store.setNote(id, name, task.id, value),
    hasTemplates: templates !== undefined,
    async startChildRun(source, variables, correlationId) {
      const prepared =
        'template' in source && templates
          ? prepareFromTemplate(templates(source.template), variables)
          : prepareInline((source as { workflow: unknown }).workflow, variables, '/parameters/workflow');
      // The child goes to its claim's partition, maybe another one: a separate write there, never a MULTI with this
      // run's keys; the claim makes a re-run of this step find the same child.
      const claim = { space: 'child', id: correlationId } as const;
      const submitted = await kernelOf(ctx.placement({ claim })).submit(prepared, {
        claim,
        parent: {
          executionId: id,
          taskId: task.id,
          jobId: job.id as string,
          queue: task.queue,
          depth: (def.depth ?? 0) + 1,
        },
        requestId: def.requestId,
      });
      return submitted.executionId;
    },
    async cancelRun(child, reason) {
      const there = ctx.peer(child);
      if (!isFinalStatus(await there.store.status(child)))
        await kernelOf(there)
          .cancel(child, reason)
          .catch(() => undefined);
    },
    async runOutcome(child) {
      const there = ctx.peer(child).store;
      if (!isFinalStatus(await there.status(child))) return { ended: false };
      const record = await there.get(child);
      if (!record) throw new Error(`sub-workflow ${child} has expired`);
      const outputs = Object.fromEntries(
        record.tasks.filter((t) => t.status === 'completed').map((t) => [t.id, t.output]),
      );
      return { ended: true, status: record.status, error: record.error, outputs, result: record.result };
    },
    addSubTasks: (subTasks, maxConcurrency) => addSubTasks(scope, subTasks, maxConcurrency),
    async waitForSubTasks() {
      if (await job.moveToWaitingChildren(token as string)) throw new WaitingChildrenError();
    },
    async subTaskResults() {
      // This attempt's sub-tasks only: a retry's children are new jobs beside the earlier attempt's.
      const own = (key: string) => key.slice(key.lastIndexOf(':') + 1).startsWith(`${job.id}.${attempt}.`);
      const failures = Object.entries(await job.getIgnoredChildrenFailures())
        .filter(([key]) => own(key))
        .map(([key, reason]) => [key.slice(key.lastIndexOf(':') + 1), reason] as [string, string]);
      const ordered: unknown[] = [];
      for (const [key, value] of Object.entries(await job.getChildrenValues()))
        if (own(key)) ordered[Number(key.slice(key.lastIndexOf('.') + 1))] = value;
      return { failures, outputs: ordered };
    },
  };
}

/**
 * Sub-task jobs as children of the parallel task's job, one per sub-task, with the task's retry policy. Under a
 * limit (the task's `max_concurrency`, the run's) each carries its gates: it takes a slot before it runs.
 */
async function addSubTasks(
  { ctx, def, task, attempt, job }: ControlScope,
  subTasks: SubTaskSpec[],
  maxConcurrency?: number,
): Promise<void> {
  const gates = itemGates(def, task.id, maxConcurrency);
  const parent = { id: job.id as string, queue: job.queueQualifiedName };
  const { ttlSeconds } = ctx.limits;
  const trace = carrierOf(); // the parallel task's span, active while it adds its items
  await ctx.queues.taskQueue(task.queue).addBulk(
    subTasks.map((sub, i) => {
      const data: SubTaskJobData = {
        e: def.executionId,
        t: task.id,
        i,
        type: sub.type as SubTaskJobData['type'],
        params: sub.parameters,
      };
      if (sub.timeoutMs !== undefined) data.timeoutMs = sub.timeoutMs;
      if (task.backoff) data.bp = task.backoff;
      if (gates.length > 0) {
        data.g = gates;
        data.a = attempt;
      }
      if (def.requestId) data.rid = def.requestId;
      if (job.data.dl !== undefined && job.data.da === attempt) data.pd = job.data.dl;
      if (trace) data.tc = trace;
      return {
        name: 'subtask',
        data,
        opts: {
          jobId: jobIds.subTask(job.id as string, attempt, i),
          parent,
          attempts: task.attempts,
          ...(task.backoff ? { backoff: { type: 'orch' } } : {}),
          ignoreDependencyOnFailure: true,
          removeOnComplete: { age: ttlSeconds },
          removeOnFail: { age: ttlSeconds },
        },
      };
    }),
  );
}

/**
 * When a waiting task's attempt times out: set on the attempt's first run (kept in the job's data, so parking and
 * waking keep it), undefined without a timeout.
 */
export async function attemptDeadline(
  job: Job<TaskJobData>,
  retry: number,
  timeoutMs: number | undefined,
): Promise<number | undefined> {
  if (timeoutMs === undefined) return undefined;
  if (job.data.da === retry && job.data.dl !== undefined) return job.data.dl;
  const dl = Date.now() + timeoutMs;
  await job.updateData({ ...job.data, dl, da: retry });
  return dl;
}
