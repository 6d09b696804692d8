import type { ServiceTaskType } from '@orch/core';
import { QUEUES, taskQueueName } from '@orch/redis';
import type { TraceCarrier } from '@orch/tracing';
import type { FlowJob, JobsOptions } from 'bullmq';
import { type BackoffSpec, type ExecutionDefinition, taskOf } from './execution-definition';
import type { Gate } from './run-scripts';

/** Completed task jobs kept per queue (for Bull Board); the run record keeps every task. */
export const COMPLETED_TASK_JOBS_KEPT = 1000;

/**
 * Data of a task job. Short field names, since it rides in every job: `e` execution id, `t` task id, `bp` the
 * backoff spec (read by the worker's backoff strategy). A waiting task type keeps its own state beside them
 * (its `WaitingJob` state: `until`, `step`, `child`, ...).
 */
export interface TaskJobData {
  e: string;
  t: string;
  bp?: BackoffSpec;
  /** A waiting task with a timeout: when its attempt `da` (BullMQ's) times out, epoch ms. */
  dl?: number;
  da?: number;
  /**
   * A run's first jobs: its definition's JSON (up to DEFINITION_IN_JOB_MAX), so the worker that fetches one starts
   * the run without reading it, one round trip less on every run's path.
   */
  d?: string;
}

/** The largest definition (JSON characters) a run's first jobs carry; a larger one is read from its key. */
export const DEFINITION_IN_JOB_MAX = 16 * 1024;

/** Data of a parallel sub-task job (`i` its index): its parameters are resolved when the parallel task adds it. */
export interface SubTaskJobData {
  e: string;
  t: string;
  i: number;
  type: ServiceTaskType | 'transform';
  params: Record<string, unknown>;
  timeoutMs?: number;
  bp?: BackoffSpec;
  /** Under a concurrency limit: the gates it takes a slot of before it runs, and the parallel task's attempt. */
  g?: Gate[];
  a?: number;
  /** The run's request id, for the sub-task's log lines. */
  rid?: string;
  /** The parallel task's attempt times out at this epoch ms: the sub-task does not start after it, nor run past it. */
  pd?: number;
  /** The parallel task attempt's span (W3C trace context), parent of the sub-task's; only when tracing. */
  tc?: TraceCarrier;
}

/** Job ids: deterministic, so adding a job twice is a no-op while it exists, and a run's jobs share a prefix. */
export const jobIds = {
  /** The workflow job, parent of every task job of the run. */
  workflow: (executionId: string) => executionId,
  task: (executionId: string, taskId: string) => `${executionId}.${taskId}`,
  /** Prefix of every task job of the run (sub-tasks included). */
  runTasks: (executionId: string) => `${executionId}.`,
  /** The n-th pause of a run: a parked child that keeps the workflow job from ending it. */
  hold: (executionId: string, n: number) => `${executionId}.hold.${n}`,
  runHolds: (executionId: string) => `${executionId}.hold.`,
  subTask: (parentJobId: string, attempt: number, index: number) => `${parentJobId}.${attempt}.${index}`,
};

/** How long finished jobs of runs are kept, in seconds (BullMQ's `age` unit). */
export const ttlSecondsOf = (executionTtlMs: number) => Math.max(1, Math.ceil(executionTtlMs / 1000));

/** The BullMQ job of one task. */
export function taskJob(
  def: ExecutionDefinition,
  taskId: string,
  ttlSeconds: number,
  parent?: { id: string; queue: string },
): { name: string; data: TaskJobData; opts: JobsOptions } {
  const task = taskOf(def, taskId);
  if (!task) throw new Error(`task ${taskId} is not in execution ${def.executionId}`);
  const data: TaskJobData = { e: def.executionId, t: taskId };
  const opts: JobsOptions = {
    jobId: jobIds.task(def.executionId, taskId),
    attempts: task.attempts,
    // A failed task must not fail the workflow job: the engine decides what a failure means.
    ignoreDependencyOnFailure: true,
    // Releases are gated by completion records, not by job ids, so completed task jobs need not outlive their
    // run: keep the newest 1,000 for Bull Board and drop the rest (a job hash is most of a task's Redis cost).
    removeOnComplete: { age: ttlSeconds, count: COMPLETED_TASK_JOBS_KEPT },
    removeOnFail: { age: ttlSeconds },
  };
  if (task.backoff) data.bp = task.backoff;
  // The engine's strategy for every retried task: its backoff, or a failure's Retry-After.
  if (task.attempts > 1) opts.backoff = { type: 'orch' };
  if (parent) opts.parent = parent;
  return { name: task.type, data, opts };
}

/**
 * The workflow job with `first` as its children: added with them in one atomic FlowProducer.add. `text`: the
 * definition's JSON, which the children carry (`d`).
 */
export function workflowFlow(
  def: ExecutionDefinition,
  first: readonly string[],
  ttlSeconds: number,
  text?: string,
): FlowJob {
  return {
    name: 'workflow',
    queueName: QUEUES.workflows,
    data: { e: def.executionId },
    opts: {
      jobId: jobIds.workflow(def.executionId),
      removeOnComplete: { age: ttlSeconds },
      removeOnFail: { age: ttlSeconds },
    },
    children: first.map((t) => {
      const job = taskJob(def, t, ttlSeconds);
      if (text !== undefined) job.data.d = text;
      return { queueName: taskQueueName(taskOf(def, t)?.queue), ...job };
    }),
  };
}
