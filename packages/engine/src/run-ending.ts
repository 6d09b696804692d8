import type { ExecutionRecord, FinalStatus, TaskFinalStatus } from '@orch/run-model';
import { recordRunSpan } from '@orch/tracing';
import type { Job } from 'bullmq';
import { gateNames } from './concurrency-gates';
import { EndedRuns } from './ended-runs';
import type { EngineContext } from './engine-context';
import { type ExecutionDefinition, queueOf } from './execution-definition';
import { ExitHandlers, type TasksOutcome } from './exit-handlers';
import { type RunMeta, recordFromHashes } from './run-record-view';
import { evaluateRunOutput } from './run-result';
import type { RunEndInputs } from './script-inputs';
import { jobIds, type TaskJobData } from './task-job';

/**
 * The most bytes of a run's record (meta, task states, outputs) its finished message carries when a submit waits for
 * it (`awaited`): the API answers from the message instead of reading the record. Bigger records are read.
 */
export const FINISHED_RECORD_CAP = 64 * 1024;

/** What the workflow job ends a run as, by the status the run has when no task job is pending. */
const ENDINGS: Record<string, { final: FinalStatus; mark: TaskFinalStatus } | undefined> = {
  cancelling: { final: 'cancelled', mark: 'cancelled' },
  timing_out: { final: 'timed_out', mark: 'cancelled' },
  failing: { final: 'failed', mark: 'upstream_failed' },
};

/** Ending runs: the final status, the finalize script (which also frees the slot), the final message. */
export class RunEnding {
  private readonly exits: ExitHandlers;
  /** What this process ended lately (see EndedRuns). */
  readonly ended = new EndedRuns();

  constructor(
    private readonly ctx: EngineContext,
    /** Starts the runs admitted into a slot an ending run gave back (finalize admits them). */
    private readonly startAdmitted: (admitted: readonly string[]) => Promise<void>,
    release: (def: ExecutionDefinition, taskIds: readonly string[]) => Promise<void>,
  ) {
    this.exits = new ExitHandlers(ctx, release);
  }

  /**
   * Decides a run's final status once no task job is pending, and ends it: `cancelling` -> cancelled, `timing_out`
   * -> timed_out, `failing` -> failed, otherwise failed when a task failed, else completed. A task whose job failed
   * without a completion record (it stalled too often: its worker kept dying) counts as failed. A run with exit
   * handlers then runs them first (`exiting`: the job waits for them, and returns here once they are done).
   * `known`: the meta and completion records, when the caller has them from the script that recorded the last task.
   */
  async endRun(id: string, known?: RunEndInputs): Promise<string> {
    const endedAs = this.ended.get(id);
    if (endedAs) return endedAs;
    const { store } = this.ctx;
    // The completion that recorded the last task returns what is decided on; anyone else reads it.
    const [meta, fin] = known ?? (await store.metaAndFinished(id));
    const status = meta.status ?? '';
    const exiting = meta.exit_status && (status === 'exiting' || status === 'timing_out');
    // Already ended (say by the job that recorded its last task): the workflow job has nothing left to do.
    if (!exiting && status !== 'running' && !Object.hasOwn(ENDINGS, status)) return status;
    const def = await store.definition(id);
    if (exiting) {
      if (await this.exits.pending(def, status !== 'exiting')) return 'exiting';
      const final = meta.exit_status as FinalStatus;
      await this.finish(def, final, meta.exit_error ?? '', 'cancelled', await this.exits.unfinished(def));
      return final;
    }
    const outcome = await this.tasksOutcome(def, meta, fin);
    if (def.exitTasks) {
      await this.exits.begin(def, meta, outcome, status);
      return 'exiting';
    }
    await this.finish(def, outcome.final, outcome.error, outcome.mark, outcome.unfinished);
    return outcome.final;
  }

  /** How a running or ending run's tasks ended: the status it ends with, and what its unfinished tasks become. */
  private async tasksOutcome(
    def: ExecutionDefinition,
    meta: RunMeta,
    recorded: ReadonlyMap<string, string>,
  ): Promise<TasksOutcome> {
    const { store } = this.ctx;
    const status = meta.status ?? '';
    let fin = recorded;
    if (status === 'running' && (await this.recordLostJobs(def, fin))) fin = await store.finished(def.executionId);
    const unfinished = Object.keys(def.tasks).filter((t) => !fin.has(t));
    const ending = Object.hasOwn(ENDINGS, status) ? ENDINGS[status] : undefined;
    if (ending) return { final: ending.final, error: meta.error ?? '', mark: ending.mark, unfinished };
    const failed = Object.keys(def.tasks).filter((t) => fin.get(t) === 'failed' && def.tasks[t]?.failsWorkflow);
    const error =
      failed.length > 0 ? `task${failed.length > 1 ? 's' : ''} failed: ${failed.join(', ')}` : (meta.error ?? '');
    return { final: failed.length > 0 ? 'failed' : 'completed', error, mark: 'skipped', unfinished };
  }

  /** Records a failure for each unfinished task whose job failed for good without one; true if there was any. */
  private async recordLostJobs(def: ExecutionDefinition, fin: ReadonlyMap<string, string>): Promise<boolean> {
    const { store, queues } = this.ctx;
    const id = def.executionId;
    const missing = Object.keys(def.tasks).filter((t) => !fin.has(t));
    const jobs = await Promise.all(missing.map((t) => queues.taskJob(jobIds.task(id, t), queueOf(def, t))));
    const lost = jobs.filter((j): j is Job => !!j && !!j.failedReason && !!j.finishedOn);
    for (const job of lost) {
      const taskId = (job.data as TaskJobData).t;
      await store.scripts.completeTask(id, {
        taskId,
        status: 'failed',
        error: `task job lost: ${job.failedReason}`,
        attempt: job.attemptsMade,
        failFast: false,
        dependents: def.tasks[taskId]?.dependents ?? [],
      });
    }
    return lost.length > 0;
  }

  /**
   * Ends a run once (Lua-guarded, which also drops its deadline and frees its slot), starts whatever waited for one.
   * Returns whether this call ended it.
   */
  async finish(
    def: ExecutionDefinition,
    status: FinalStatus,
    error: string,
    unfinishedStatus: TaskFinalStatus,
    unfinished: string[],
  ): Promise<boolean> {
    const { store, limits, channels, logger } = this.ctx;
    const id = def.executionId;
    if (status === 'completed') {
      // The declared output is the run's result: a run that cannot give it fails, saying why.
      const output = await evaluateRunOutput(this.ctx, def);
      if (output.error) [status, error] = ['failed', output.error];
      else if (output.json !== undefined) await store.setMeta(id, { result: output.json });
    }
    const ended = await store.scripts.finalize(id, {
      status,
      error,
      ttlMs: limits.executionTtlMs,
      unfinishedStatus,
      unfinished,
      channel: channels.finished,
      recordCap: FINISHED_RECORD_CAP,
      admission: { limit: limits.maxConcurrentWorkflows, startGraceMs: limits.startGraceMs },
    });
    if (!ended) return false;
    // Only the call that ended the run records its span (allocated at submit; nothing when tracing is off).
    recordRunSpan(def.trace, {
      name: `workflow ${def.workflow.id}`,
      startTime: def.createdAt,
      attributes: { 'orch.execution_id': id, 'orch.workflow_id': def.workflow.id, 'orch.status': status },
      error: status === 'completed' ? undefined : error || status,
    });
    this.ended.add(id, status);
    await store.clearGates(id, gateNames(def));
    if (ended.respondTo)
      await this.respond(id, ended.respondTo, ended.record && recordFromHashes(id, def, ended.record));
    // Wake the parent's waiting task (in its own partition's queues): it reads this run's outcome. Missed or lost,
    // the parked task looks again within RECHECK_MS (control-context.ts).
    if (def.parent) await this.ctx.peer(def.parent.executionId).queues.wake(def.parent.jobId, def.parent.queue);
    if (def.claim) await store.keepClaim(def.claim, limits.executionTtlMs);
    store.forget(id);
    logger.info('workflow finished', {
      execution_id: id,
      correlation_id: def.correlationId,
      status,
      error: error || undefined,
    });
    await this.startAdmitted(ended.admitted);
    // Last, and never in the way of the rest: the run has ended and its slot is free whatever happens here.
    await this.ctx.logs
      .expire(id, limits.executionTtlMs, ended.logFields)
      .catch((e: Error) => logger.warn('task logs were not given the run TTL', { execution_id: id, error: e.message }));
    return true;
  }

  /**
   * Runs submitted over the message bus get their final message on the channel they named (`to`, '' for none),
   * exactly once: only the call that ended the run gets here (or, for a channel set after the end, the one caller
   * that set it). `known`: the final record, when finalize returned it.
   */
  async respond(id: string, to: string, known?: ExecutionRecord): Promise<void> {
    if (!to) return;
    const record = known ?? (await this.ctx.store.get(id));
    if (!record) return;
    const outputs = Object.fromEntries(
      record.tasks.filter((t) => t.status === 'completed').map((t) => [t.id, t.output]),
    );
    const message: Record<string, unknown> = {
      type: record.status,
      execution_id: id,
      correlation_id: record.correlation_id ?? null,
      status: record.status,
    };
    if (record.status === 'completed') [message.outputs, message.result] = [outputs, record.result];
    else message.error = record.error ?? record.status;
    await this.ctx.store.publish(to, JSON.stringify(message));
  }
}
