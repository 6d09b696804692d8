import type { FinalStatus, TaskFinalStatus } from '@orch/run-model';
import type { Job } from 'bullmq';
import { gateNames } from './concurrency-gates';
import type { EngineContext } from './engine-context';
import { type ExecutionDefinition, queueOf } from './execution-definition';
import type { RunMeta } from './run-record-view';
import { jobIds, type TaskJobData } from './task-job';

/** What the exit handlers see as `${workflow}`. */
export interface ExitScope {
  execution_id: string;
  /** The status the run ends with: completed, failed, timed_out or cancelled. */
  status: FinalStatus;
  error?: string;
  /** The tasks that failed, with their errors. */
  failures: { task: string; error: string }[];
  /** From the run's start to the end of its tasks. */
  duration_ms: number;
}

/** How the run's tasks ended: the status the run ends with, its error, and the status of tasks that never ran. */
export interface TasksOutcome {
  final: FinalStatus;
  error: string;
  mark: TaskFinalStatus;
  unfinished: string[];
}

/**
 * Exit handlers (`on_exit`, Argo's `onExit`): once a run's tasks have ended, whatever the outcome, its status is
 * decided and kept, the run moves to `exiting`, and its exit handlers are added as children of the workflow job,
 * which waits for them and then ends the run with the status it decided (their failures are recorded, and change
 * nothing). After a cancel or a timeout they get `EXIT_GRACE_PERIOD`; otherwise what is left of the workflow
 * timeout, and at least that grace. Past it they are stopped (`cut-exit`) and the run ends all the same.
 */
export class ExitHandlers {
  constructor(
    private readonly ctx: EngineContext,
    private readonly release: (def: ExecutionDefinition, taskIds: readonly string[]) => Promise<void>,
  ) {}

  /**
   * Marks the tasks that never ran, keeps the outcome, and adds the exit handlers. Returns false when the run had
   * already moved on (another call started them).
   */
  async begin(def: ExecutionDefinition, meta: RunMeta, outcome: TasksOutcome, was: string): Promise<boolean> {
    const { store, limits } = this.ctx;
    const id = def.executionId;
    const now = Date.now();
    const fin = await store.finished(id);
    const failed = Object.keys(def.tasks).filter((t) => fin.get(t) === 'failed');
    const errors = await store.taskErrors(id, failed);
    const started = Number(meta.started_at ?? meta.created_at ?? now);
    const scope: ExitScope = {
      execution_id: id,
      status: outcome.final,
      ...(outcome.error ? { error: outcome.error } : {}),
      failures: failed.map((task) => ({ task, error: errors.get(task) ?? '' })),
      duration_ms: now - started,
    };
    // Cancelled or timed out: the grace period. Otherwise the rest of the workflow timeout, and at least the grace.
    const grace = now + limits.exitGraceMs;
    const deadline = was === 'cancelling' || was === 'timing_out' ? grace : Math.max(grace, started + def.timeoutMs);
    const begun = await store.scripts.beginExit(id, {
      status: outcome.final,
      error: outcome.error,
      unfinishedStatus: outcome.mark,
      unfinished: outcome.unfinished,
      workflow: JSON.stringify(scope),
      deadline,
      now,
    });
    if (!begun) return false;
    // Slots held by tasks that were aborted are free now; exit handlers start with the run's gates empty.
    await store.clearGates(id, gateNames(def));
    await store.setDeadline(id, deadline);
    await this.release(def, def.exitRoots ?? []);
    return true;
  }

  /**
   * The workflow job ran while the run is `exiting` (or was stopped there): adds exit handlers that became ready and
   * have no job (a crash between beginning and adding them), records those whose job ended without an outcome, and
   * says whether any is still to come. False: the exit handlers are done, the run can end.
   */
  async pending(def: ExecutionDefinition, stopped: boolean): Promise<boolean> {
    const { store, queues } = this.ctx;
    const id = def.executionId;
    if (stopped) return false;
    for (let pass = 0; pass <= Object.keys(def.exitTasks ?? {}).length; pass++) {
      const ready = await store.readyTasks(def, true);
      if (ready.length === 0) return false;
      const jobs = await Promise.all(ready.map((t) => queues.taskJob(jobIds.task(id, t), queueOf(def, t))));
      const missing = ready.filter((_, i) => !jobs[i]);
      const ended = jobs.filter((j): j is Job => !!j?.finishedOn);
      if (ended.length < jobs.filter(Boolean).length || missing.length > 0) {
        await this.release(def, missing);
        return true;
      }
      for (const job of ended) await this.recordLost(def, job);
    }
    return false;
  }

  /** An exit handler whose job ended without recording an outcome (it stalled too often) failed. */
  private async recordLost(def: ExecutionDefinition, job: Job): Promise<void> {
    const taskId = (job.data as TaskJobData).t;
    await this.ctx.store.scripts.completeTask(def.executionId, {
      taskId,
      status: 'failed',
      error: `task job lost: ${job.failedReason ?? 'it ended without an outcome'}`,
      attempt: job.attemptsMade,
      failFast: false,
      dependents: def.exitTasks?.[taskId]?.dependents ?? [],
    });
  }

  /** The unfinished exit handlers, marked `cancelled` when the run ends. */
  async unfinished(def: ExecutionDefinition): Promise<string[]> {
    const fin = await this.ctx.store.finished(def.executionId);
    return Object.keys(def.exitTasks ?? {}).filter((t) => !fin.has(t));
  }
}
