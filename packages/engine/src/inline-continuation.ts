import { taskTypeOf } from '@orch/core';
import type { TaskFinalStatus } from '@orch/run-model';
import { wantedBy } from './definition-lookups';
import type { EngineContext } from './engine-context';
import { type CompiledTask, type ExecutionDefinition, taskOf } from './execution-definition';
import type { RunEndInputs, StartTaskInput, StartTaskReply } from './script-inputs';

/**
 * Inline continuation: a job whose task completes runs the dependents it made ready itself, in the same job (its
 * carrier), instead of adding jobs for them and waiting for a worker to fetch them: `next` in the job's own slot,
 * `branches` beside it. The carrier stays active until every task it carried is recorded, so a worker that dies
 * mid-chain leaves a job that stalls and runs again; its re-run replays the chains' releases (see `carriedBy`) and
 * the tasks cut off are re-run, their attempts recorded lost. Each branch has a carry of its own. The same object carries the news that the run's last task was
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
  /**
   * Ready dependents the job runs inline beside `next`, at once, each in a slot of the worker's taken for it from
   * `slots` (a diamond's second branch, the rest of a split of up to MAX_INLINE_BRANCHES); past the free slots
   * they are queued as jobs.
   */
  branches?: string[];
  /** Branches the completion that chose them started in its own call: what start-task would answer, by task. */
  primed?: Map<string, StartTaskReply>;
  slots?: InlineSlots;
  /** A branch's carry points at the job's own, where the news of the run's last task goes. */
  root?: Carry;
  /** A completion recorded the run's last task: the job ends the run once its attempts' logs are closed. */
  lastTask?: true;
  /** What that completion's script returned for the end (the meta and completion records), so it is not read. */
  end?: RunEndInputs;
}

/** The worker's spare slots for a task queue (its ConcurrencyShare), which a job's parallel branches take. */
export interface InlineSlots {
  borrow(): boolean;
  giveBack(): void;
}

/**
 * Branches a job may run beside its next task. A wider fan-out is queued whole: it is meant to spread over every
 * worker, and the slots its branches borrowed would keep this worker from fetching its jobs until the carrier ends
 * (BullMQ's Worker fetches again only as its own jobs finish): measured, 1 -> 1,000 -> 1 took 273 ms with 49 of its
 * leaves carried against 219 ms queued.
 */
export const MAX_INLINE_BRANCHES = 8;

/**
 * Of `ready` (made ready by `from`'s completion, besides the one the job runs next), those the job queues: the
 * rest it runs inline as branches, while the worker has a free slot for each (a split of up to
 * MAX_INLINE_BRANCHES).
 */
export function branchOff(def: ExecutionDefinition, from: CompiledTask, ready: readonly string[], carry: Carry) {
  const { slots } = carry;
  if (!carry.inline || !slots || ready.length === 0 || ready.length > MAX_INLINE_BRANCHES) return ready;
  const queued: string[] = [];
  for (const d of ready) {
    if (!inlinable(def, from, d) || !slots.borrow()) queued.push(d);
    else if (carry.branches) carry.branches.push(d);
    else carry.branches = [d];
  }
  return queued;
}

/** Gives back the slots of branches a job took and will not run (its lock was lost: its re-run releases them). */
export function dropBranches(carry: Carry | undefined): void {
  for (const _ of carry?.branches?.splice(0) ?? []) carry?.slots?.giveBack();
  carry?.primed?.clear();
}

/**
 * Runs the completion `call` that was asked to start `beside` (`branchStarts`), then settles their slots: each it
 * started runs beside the next task, from that start; each other gives its slot back (all, if the call failed).
 */
export async function startingBeside<T extends { started: ReadonlyMap<string, StartTaskReply> }>(
  carry: Carry | undefined,
  beside: readonly StartTaskInput[],
  call: () => Promise<T>,
): Promise<T> {
  let reply: T | undefined;
  try {
    reply = await call();
    return reply;
  } finally {
    for (const { taskId } of beside) {
      const started = reply?.started.get(taskId);
      if (carry && started) {
        if (carry.branches) carry.branches.push(taskId);
        else carry.branches = [taskId];
        carry.primed ??= new Map();
        carry.primed.set(taskId, started);
      } else carry?.slots?.giveBack();
    }
  }
}

/**
 * The branches a completion starts beside `next` in its own script call: `from`'s other dependents that depend on
 * it alone and may run inline, each in a slot borrowed for it now (the caller gives back the slot of one the call
 * did not start). Only for a split of up to MAX_INLINE_BRANCHES beside `next`, which must depend on `from` alone.
 */
export function branchStarts(
  def: ExecutionDefinition,
  from: CompiledTask,
  carry: Carry,
  next: StartTaskInput,
  worker: string,
): StartTaskInput[] {
  const { slots } = carry;
  const starts: StartTaskInput[] = [];
  if (!slots || from.dependents.length > MAX_INLINE_BRANCHES + 1 || taskOf(def, next.taskId)?.deps.length !== 1)
    return starts;
  for (const d of from.dependents) {
    const task = d === next.taskId ? undefined : taskOf(def, d);
    if (task?.deps.length !== 1 || !inlinable(def, from, d) || !slots.borrow()) continue;
    starts.push({
      taskId: d,
      attempt: 1,
      worker,
      wanted: wantedBy(def, task),
      reads: task.reads,
      carrier: next.carrier,
    });
  }
  return starts;
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
 * Joins of up to this many dependencies are started by the completion that makes them ready, in its own script
 * call; a wider join's start (its dependencies' names) would ride in every one of its dependencies' completions, so
 * it is carried after a start-task of its own.
 */
export const MAX_STARTED_JOIN = 8;

/**
 * What complete-task needs to start the dependent `from`'s job would carry on with, in the same call: the first of
 * its dependents that may run inline and depends on it alone, so this completion makes it ready, else the first
 * such join of up to MAX_STARTED_JOIN dependencies (started only by the completion that makes it ready).
 */
export function inlineStart(
  def: ExecutionDefinition,
  from: CompiledTask,
  carry: Carry,
  worker: string,
): StartTaskInput | undefined {
  if (!carry.inline || carry.next !== undefined || !carry.carrier) return undefined;
  const within = (d: string, most: number) => (taskOf(def, d)?.deps.length ?? 0) <= most && inlinable(def, from, d);
  const next = from.dependents.find((d) => within(d, 1)) ?? from.dependents.find((d) => within(d, MAX_STARTED_JOIN));
  const task = next === undefined ? undefined : taskOf(def, next);
  if (!task) return undefined;
  return {
    taskId: task.id,
    attempt: 1,
    worker,
    wanted: wantedBy(def, task),
    reads: task.reads,
    carrier: carry.carrier,
  };
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
