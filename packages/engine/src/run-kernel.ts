import { CHILD_RUN_NOTE, type PreparedWorkflow } from '@orch/core';
import { NotFoundError } from '@orch/errors';
import { type ExecutionStatus, isFinalStatus, publicStatus } from '@orch/run-model';
import type { EngineContext } from './engine-context';
import { type ExecutionDefinition, queueOf, queuesOf } from './execution-definition';
import { PARKED_MS } from './parked-jobs';
import { RunEnding } from './run-ending';
import { type RetryResult, RunSubmission, type SubmitOptions, type SubmitResult } from './run-submission';
import type { RunEndInputs } from './script-inputs';
import { jobIds, taskJob, workflowFlow } from './task-job';

/** Each partition's kernel, by its context: how a step that concerns another partition's run reaches it. */
const kernels = new WeakMap<EngineContext, RunKernel>();

/** The kernel of a partition's context (every context has one once the engine is built). */
export function kernelOf(ctx: EngineContext): RunKernel {
  const kernel = kernels.get(ctx);
  if (!kernel) throw new Error(`partition ${ctx.partition} has no kernel`);
  return kernel;
}

/** Ready tasks released with separate adds rather than one addBulk (see `release`). */
const SEPARATE_ADDS_UP_TO = 8;

/**
 * The run lifecycle: admission, starting, releasing ready tasks, aborting and ending runs. The facade (the API's
 * side) and the worker's parts (task runner, workflow job, recovery, schedules) drive runs only through this.
 */
export class RunKernel {
  private readonly submission: RunSubmission;
  private readonly ending: RunEnding;

  constructor(private readonly ctx: EngineContext) {
    kernels.set(ctx, this);
    this.submission = new RunSubmission(ctx, (def, first) => this.launch(def, first));
    this.ending = new RunEnding(
      ctx,
      (admitted) => this.startAdmitted(admitted),
      (def, ids) => this.release(def, ids),
    );
  }

  submit(prepared: PreparedWorkflow, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.submission.submit(prepared, options);
  }

  retry(id: string, options: Pick<SubmitOptions, 'submittedBy' | 'requestId'> = {}): Promise<RetryResult> {
    return this.submission.retry(id, options);
  }

  /**
   * Starts an admitted run: status and deadline first (tasks start only in a running run), then its jobs.
   * `first` are the tasks to enqueue with the run: its roots, or for a retry the tasks that did not complete.
   */
  async start(def: ExecutionDefinition, first: string[] = def.roots): Promise<void> {
    await this.ctx.store.markStarted(def.executionId, def.timeoutMs);
    await this.launch(def, first);
  }

  /** Starts an admitted run from where it stands: the tasks that are ready. */
  async startReady(def: ExecutionDefinition): Promise<void> {
    await this.start(def, await this.ctx.store.readyTasks(def));
  }

  /**
   * Adds a running run's first jobs. Its deadline is an entry in the deadline set, written with its status; the
   * workers sweep that set (a delayed job per run cost two BullMQ scripts, one to add and one to remove it).
   */
  private async launch(def: ExecutionDefinition, first: string[]): Promise<void> {
    await this.startJobs(def, first);
    this.ctx.logger.info('workflow started', {
      execution_id: def.executionId,
      correlation_id: def.correlationId,
      tasks: Object.keys(def.tasks).length,
    });
  }

  /** Adds the workflow job with `first` as its children, in one atomic FlowProducer.add. */
  async startJobs(def: ExecutionDefinition, first: string[]): Promise<void> {
    const { queues, limits, store } = this.ctx;
    await queues.flows.add(workflowFlow(def, first, limits.ttlSeconds, store.definitionText(def)));
  }

  /** Adds ready tasks as children of the workflow job. */
  async release(def: ExecutionDefinition, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const { queues, limits } = this.ctx;
    const parent = queues.workflowParent(def.executionId);
    if (taskIds.length <= SEPARATE_ADDS_UP_TO) {
      // A few adds cost less one by one: BullMQ's addBulk makes an ioredis pipeline, and every pipeline copies the
      // ~60 scripts BullMQ defines on its client (~30 µs, more than the round trips it saves for a handful).
      await Promise.all(
        taskIds.map((t) => {
          const { name, data, opts } = taskJob(def, t, limits.ttlSeconds, parent);
          return queues.taskQueue(queueOf(def, t)).add(name, data, opts);
        }),
      );
      return;
    }
    // One bulk add per task queue (`queue:`): most runs have only the default one.
    const byQueue = new Map<string | undefined, string[]>();
    for (const t of taskIds) byQueue.set(queueOf(def, t), [...(byQueue.get(queueOf(def, t)) ?? []), t]);
    await Promise.all(
      [...byQueue].map(([queue, ids]) =>
        queues.taskQueue(queue).addBulk(ids.map((t) => taskJob(def, t, limits.ttlSeconds, parent))),
      ),
    );
  }

  /**
   * Times out every run whose deadline has passed; each is claimed by one caller (the workers call this on a timer).
   * Returns the runs it timed out.
   */
  async timeOutDue(now = Date.now(), batch = 100): Promise<string[]> {
    const { store, logger } = this.ctx;
    const due: string[] = [];
    // Claimed in batches, so one script call never holds Redis for long however many runs are due at once.
    for (;;) {
      const claimed = await store.scripts.claimDeadlines(now, batch);
      due.push(...claimed);
      if (claimed.length < batch) break;
    }
    for (const id of due) {
      const def = await store.definition(id).catch(() => undefined);
      if (!def) continue; // expired meanwhile
      await this.abort(id, 'timing_out', `workflow timed out after ${def.timeoutMs} ms`).catch((error: Error) =>
        logger.warn('could not time out a run', { execution_id: id, error: error.message }),
      );
    }
    return due;
  }

  /**
   * Launches the admitted runs whose `starting` marker is due and whose workflow job is missing: the process that
   * created them died between creating and enqueueing (the workers call this every second). A run whose job is
   * there just loses its marker. Returns the runs it launched.
   */
  async startOrphans(now = Date.now(), batch = 100): Promise<string[]> {
    const { store, queues, limits, logger } = this.ctx;
    const due = await store.scripts.claimStarting(now, batch, limits.startGraceMs);
    if (due.length === 0) return [];
    const queued = await queues.workflowJobsExist(due);
    const launched: string[] = [];
    for (const [i, id] of due.entries()) {
      if (queued[i]) continue;
      const def = await store.definition(id).catch(() => undefined);
      const status = def ? await store.status(id) : undefined;
      if (!def || !status || isFinalStatus(status)) continue;
      await store.appendEvent(id, 'recovery.started', { error: 'its first jobs never reached the queue' });
      // A run still `pending` here was admitted but never marked running; otherwise only its jobs are missing.
      if (status === 'pending') await this.startReady(def);
      else await this.startJobs(def, await store.readyTasks(def));
      logger.warn('orphaned run started', { execution_id: id, status });
      launched.push(id);
    }
    if (launched.length > 0) await store.addToCounters(new Map([['recovery_started', launched.length]]));
    await store.dropStarting(due);
    return launched;
  }

  /** Cancels a run: pending runs end at once, running ones stop starting tasks and abort the running ones. */
  cancel(id: string, reason = 'cancelled by request'): Promise<ExecutionStatus> {
    return this.abort(id, 'cancelling', reason);
  }

  /** Moves a run to `cancelling` or `timing_out`, and tells every worker to abort its tasks. */
  async abort(id: string, status: 'cancelling' | 'timing_out', reason: string): Promise<ExecutionStatus> {
    const { store } = this.ctx;
    const before = await store.scripts.abort(id, { status, reason });
    if (before === undefined) throw new NotFoundError('execution', id);
    if (before === 'pending') {
      await store.removePending(id);
      const def = await store.definition(id);
      const final = status === 'cancelling' ? 'cancelled' : 'timed_out';
      // It never started, so neither do its exit handlers.
      const all = [...Object.keys(def.tasks), ...Object.keys(def.exitTasks ?? {})];
      await this.ending.finish(def, final, reason, 'cancelled', all);
      return final;
    }
    if (before === 'exiting') {
      await this.stopExit(id, status);
      return 'running';
    }
    if (before === 'running' || before === 'paused') await this.broadcastAbort(id);
    return publicStatus((await store.status(id)) ?? before);
  }

  /**
   * A cancel or timeout of a run running its exit handlers: a timeout (their deadline passed) stops them now; a cancel
   * gives them the grace period at most.
   */
  private async stopExit(id: string, status: 'cancelling' | 'timing_out'): Promise<void> {
    const { store, limits } = this.ctx;
    if (status === 'timing_out') {
      if (await store.scripts.cutExit(id, limits.exitGraceMs)) await this.broadcastAbort(id);
      return;
    }
    const deadline = Date.now() + limits.exitGraceMs;
    if (Number((await store.metaField(id, 'exit_deadline')) ?? Infinity) > deadline) {
      await store.setMeta(id, { exit_deadline: String(deadline) });
      await store.setDeadline(id, deadline);
    }
  }

  /**
   * Asks every worker to abort this run's running tasks, and brings its delayed jobs (delay tasks, retry backoffs)
   * forward so they end now instead of when their timer fires.
   */
  async broadcastAbort(id: string): Promise<void> {
    const { store, queues } = this.ctx;
    await store.broadcastAbort(id);
    const def = await store.definition(id).catch(() => undefined);
    for (const queue of queuesOf(def)) await queues.promoteDelayed(queues.taskQueue(queue), jobIds.runTasks(id));
    await queues.promoteDelayed(queues.control, jobIds.runHolds(id));
    // Sub-workflows end with the run that started them.
    const all = def ? [...Object.values(def.tasks), ...Object.values(def.exitTasks ?? {})] : [];
    const subTasks = all.filter((t) => t.type === 'workflow');
    for (const child of await store.notes(
      id,
      CHILD_RUN_NOTE,
      subTasks.map((t) => t.id),
    )) {
      if (!child) continue;
      // The child may live in another partition: its own kernel cancels it there.
      await kernelOf(this.ctx.peer(child))
        .cancel(child, `the run that started it (${id}) is ending`)
        .catch(() => undefined);
    }
  }

  /** A parked child of the workflow job: while it is pending, BullMQ will not run the workflow job. */
  async hold(id: string, n: number): Promise<void> {
    const { queues, logger } = this.ctx;
    await queues.control
      .add(
        'hold',
        { e: id },
        {
          jobId: jobIds.hold(id, n),
          delay: PARKED_MS,
          parent: queues.workflowParent(id),
          removeOnComplete: true,
          removeOnFail: true,
        },
      )
      .catch((error: Error) => logger.warn('could not add hold job', { execution_id: id, error: error.message }));
  }

  /** Brings a paused run's parked jobs (queued tasks, its holds) back now. */
  async unpark(id: string): Promise<void> {
    const { queues, store } = this.ctx;
    const def = await store.definition(id).catch(() => undefined);
    for (const queue of queuesOf(def)) await queues.promoteDelayed(queues.taskQueue(queue), jobIds.runTasks(id));
    await queues.promoteDelayed(queues.control, jobIds.runHolds(id));
  }

  /**
   * Decides a run's final status once no task job is pending, and ends it. Returns the final status (or the status
   * it had already ended with). `known`: the meta and completion records, from the script that recorded the last task.
   */
  endRun(id: string, known?: RunEndInputs): Promise<string> {
    return this.ending.endRun(id, known);
  }

  /** The final status of a run this process ended lately, known without a read (undefined: read it). */
  endedHere(id: string): string | undefined {
    return this.ending.ended.get(id);
  }

  /** Publishes an ended run's final message on `channel` (see RunEnding.respond). */
  respond(id: string, channel: string): Promise<void> {
    return this.ending.respond(id, channel);
  }

  /** Frees `id`'s slot (if any) and starts the runs that were waiting for one, oldest first. */
  async admitWaiting(id?: string): Promise<void> {
    const { store, limits } = this.ctx;
    await this.startAdmitted(await store.scripts.releaseSlot(id, limits.maxConcurrentWorkflows, limits.startGraceMs));
  }

  /** Starts runs just admitted into free slots (by release-slot or an ending run's finalize), oldest first. */
  private async startAdmitted(admitted: readonly string[]): Promise<void> {
    const { store } = this.ctx;
    for (const next of admitted) {
      if ((await store.status(next)) === 'pending') await this.startReady(await store.definition(next));
      else await this.admitWaiting(next); // it ended while it waited: give the slot on
    }
  }
}
