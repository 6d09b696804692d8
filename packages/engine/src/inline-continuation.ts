import { taskTypeOf } from '@orch/core';
import type { TaskFinalStatus } from '@orch/run-model';
import type { EngineContext } from './engine-context';
import { type CompiledTask, type ExecutionDefinition, taskOf } from './execution-definition';
import type { RunEndInputs, StartTaskReply } from './script-inputs';

/**
 * Inline continuation: a job whose task completes runs one dependent it made ready itself, in the same job (its
 * carrier), instead of adding a job for it and waiting for a worker to fetch it. The carrier stays active until
 * every task it carried is recorded, so a worker that dies mid-chain leaves a job that stalls and runs again; its
 * re-run replays the chain's releases (see `carriedBy`) and the task cut off is re-run, its attempt recorded lost.
 * `next` is the dependent the carrier runs next. The same object carries the news that the run's last task was
 * recorded, so the job that recorded it ends the run without waiting for the workflow job.
 */
export interface Carry {
  /** Continuation is on: a completion may choose `next`. */
  inline: boolean;
  /** The carrier job and its token (this run of it), once its first attempt knows them. */
  carrier?: { jobId: string; token: string };
  next?: string;
  /** `next` was started by the completion that chose it (in the same script call): what start-task would answer. */
  started?: { taskId: string; reply: StartTaskReply };
  /** A completion recorded the run's last task: the job ends the run once its attempts' logs are closed. */
  lastTask?: true;
  /** What that completion's script returned for the end (the meta and completion records), so it is not read. */
  end?: RunEndInputs;
}

/**
 * Whether `next`, made ready by `from`'s completion, may run inline in `from`'s job: a task type with a handler (a
 * control type parks its job), on the same queue, with a single attempt (a retry needs the job's backoff), outside
 * a run's max_concurrency (the slot is a job's), and not an exit handler.
 */
export function inlinable(def: ExecutionDefinition, from: CompiledTask, next: string): boolean {
  const task = taskOf(def, next);
  if (!task || task.exit || task.attempts !== 1 || def.maxConcurrency || task.queue !== from.queue) return false;
  const module = taskTypeOf(task.type);
  return module !== undefined && module.run.kind !== 'control';
}

/**
 * Of `taskIds`, those that ran inline in job `jobId` and have a completion record, with it: what a replaying
 * carrier must replay the releases of. Read only when a job replays a recorded completion.
 */
export async function carriedBy(
  ctx: EngineContext,
  id: string,
  taskIds: readonly string[],
  jobId: string,
): Promise<Map<string, TaskFinalStatus>> {
  const carried = new Map<string, TaskFinalStatus>();
  if (taskIds.length === 0) return carried;
  const [states, finished] = await Promise.all([
    ctx.redis.hmget(ctx.keys.tasks(id), ...taskIds),
    ctx.redis.hmget(ctx.keys.finished(id), ...taskIds),
  ]);
  taskIds.forEach((t, i) => {
    const status = finished[i];
    const state = states[i];
    if (status && state && (JSON.parse(state) as { j?: string }).j === jobId) carried.set(t, status as TaskFinalStatus);
  });
  return carried;
}
