import type { Logger } from '@orch/logger';
import { isConnectionError, QUEUES, taskQueueName } from '@orch/redis';
import { isFinalStatus } from '@orch/run-model';
import { context } from '@orch/tracing';
import { type Job, WaitingChildrenError, Worker } from 'bullmq';
import type { ConcurrencyShare } from './concurrency-share';
import type { EngineContext } from './engine-context';
import type { EngineWorkerOptions } from './engine-worker-options';
import { InlineChains } from './inline-chains';
import { type Carry, dropBranches, type InlineSlots } from './inline-continuation';
import { attemptLogOf, endingOf, outcomeOf, retryDelay } from './job-outcome';
import { RecoveryManager } from './recovery/recovery-manager';
import type { RunKernel } from './run-kernel';
import { StuckWorkerWatch, type WatchedWorker } from './stuck-worker-watch';
import { lockLost } from './task-errors';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskOutcome } from './task-observer';
import { TaskRunner } from './task-runner';
import { TaskSpans } from './task-spans';

/** A task queue's BullMQ Worker with what the stuck-worker watch reads. */
interface TaskWorkerEntry extends WatchedWorker {
  queue: string;
  worker: Worker;
  share: ConcurrencyShare;
}

/** What a worker process's partitions share: its name, its logger, its running jobs and whether it traces. */
export interface WorkerShared {
  name: string;
  logger: Logger;
  /** Running task jobs by execution, so an abort message can cancel exactly those. */
  running: Map<string, Set<string>>;
  tracing: boolean;
  /** Handles control jobs that are not the partition's own (schedules: partition 0's control queue holds them). */
  controlJob(job: Job): Promise<unknown> | undefined;
}

/**
 * One partition's share of a worker process: a BullMQ Worker per task queue served, one for workflow jobs (they
 * finalise runs) and one for control jobs (recovery, schedules, pause holds) on the partition's queues, and the
 * sweeps that time out its runs past their deadline and start its orphaned ones.
 */
export class PartitionWorker {
  readonly workers: Worker[];
  readonly taskWorkers: Worker[];
  private readonly entries: TaskWorkerEntry[];
  private readonly makeTaskWorker: (queue: string) => TaskWorkerEntry;
  private readonly watch: StuckWorkerWatch<TaskWorkerEntry>;
  readonly recovery?: RecoveryManager;
  private readonly runner: TaskRunner;
  private readonly chains: InlineChains;
  private readonly spans?: TaskSpans;
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  private startSweeper?: NodeJS.Timeout;
  private startSweeping?: Promise<unknown>;
  private readonly inline: boolean;

  constructor(
    private readonly ctx: EngineContext,
    private readonly kernel: RunKernel,
    private readonly options: EngineWorkerOptions,
    private readonly shared: WorkerShared,
    base: Record<string, unknown>,
    /** Each task queue's share of the process's concurrency (see ConcurrencyShare). */
    shares: ReadonlyMap<string, ConcurrencyShare>,
    queues: readonly string[],
  ) {
    const { logger, name } = shared;
    if (shared.tracing) this.spans = new TaskSpans(ctx, name);
    this.inline = options.inlineContinuation !== false && !shared.tracing;
    this.runner = new TaskRunner(ctx, kernel, options.handlers, logger, name, options.templates);
    this.chains = new InlineChains(ctx, this.runner, logger, options.observer);
    const connection = { ...ctx.queues.workerConnection, ...base };
    this.makeTaskWorker = (queue) => {
      const share = shares.get(queue) as ConcurrencyShare;
      const entry = { queue, waitKey: '', starts: 0, running: 0 } as TaskWorkerEntry;
      const worker: Worker = new Worker(
        taskQueueName(queue),
        async (job, token, signal) => {
          share.started(worker);
          entry.starts++;
          entry.running++;
          try {
            return await this.runTaskJob(job, token, signal, share);
          } finally {
            entry.running--;
            share.ended(worker);
          }
        },
        {
          ...connection,
          concurrency: share.initial,
          settings: { backoffStrategy: (attemptsMade, _type, error, job) => retryDelay(attemptsMade, job, error) },
        },
      );
      share.add(worker);
      this.listen(worker);
      entry.worker = worker;
      entry.share = share;
      entry.waitKey = ctx.queues.taskQueue(queue).toKey('wait');
      return entry;
    };
    this.entries = queues.map((queue) => this.makeTaskWorker(queue));
    this.taskWorkers = this.entries.map((e) => e.worker);
    this.workers = [...this.taskWorkers];
    if (!options.tasksOnly) {
      const workflowWorker = new Worker(QUEUES.workflows, (job, token) => this.finalizeJob(job, token), {
        ...connection,
        concurrency: 16,
      });
      const controlWorker = new Worker(QUEUES.control, (job) => this.controlJob(job), {
        ...connection,
        concurrency: 4,
      });
      this.workers.push(workflowWorker, controlWorker);
    }
    if (options.recovery) this.recovery = new RecoveryManager(ctx, kernel, options.recovery, logger);
    for (const worker of this.workers) if (!this.taskWorkers.includes(worker)) this.listen(worker);
    this.watch = new StuckWorkerWatch(
      ctx.redis,
      () => this.entries,
      (entry) => this.renew(entry),
      logger,
    );
  }

  private listen(worker: Worker): void {
    const { logger } = this.shared;
    worker.on('error', (error) => {
      const level = isConnectionError(error) ? 'debug' : 'error'; // outages: logged once by the connection watcher
      logger.log(level, 'worker error', { queue: worker.name, partition: this.ctx.partition, error: error.message });
    });
    const observer = this.options.observer;
    if (observer?.jobStalled) worker.on('stalled', (jobId) => observer.jobStalled?.({ queue: worker.name, jobId }));
  }

  /** Replaces a stuck task Worker (see StuckWorkerWatch) with a new one on the same queue. */
  private renew(entry: TaskWorkerEntry): void {
    this.shared.logger.warn('task worker took no job while jobs waited; replacing it', {
      queue: entry.queue,
      partition: this.ctx.partition,
    });
    entry.share.remove(entry.worker);
    void entry.worker.close(true).catch(() => undefined);
    const fresh = this.makeTaskWorker(entry.queue);
    const i = this.entries.indexOf(entry);
    this.entries[i] = fresh;
    this.taskWorkers[i] = fresh.worker;
    this.workers[this.workers.indexOf(entry.worker)] = fresh.worker;
    void fresh.worker.run();
  }

  /** Schedules recovery, starts taking jobs, then the sweeps. */
  async start(): Promise<void> {
    if (this.recovery && this.options.recovery) await this.recovery.schedule(this.options.recovery.intervalMs);
    for (const worker of this.workers) void worker.run();
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.watch.start();
    if (!this.options.tasksOnly) {
      this.sweeper = setInterval(() => this.sweepDeadlines(), this.options.deadlineSweepMs ?? DEADLINE_SWEEP_MS);
      this.startSweeper = setInterval(() => this.sweepStarting(), this.options.startSweepMs ?? START_SWEEP_MS);
    }
  }

  /** Cancels the job if one of this partition's task Workers runs it (a no-op otherwise). */
  cancel(jobId: string, reason: string): void {
    for (const worker of this.taskWorkers) worker.cancelJob(jobId, reason);
  }

  /** Stops the sweeps, lets running jobs finish (or hands them back). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.startSweeper);
    await Promise.all([this.sweeping, this.startSweeping, this.watch.stop()]);
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }

  /** One sweep for orphaned runs at a time; a failed one is retried by the next tick (their markers stay). */
  private sweepStarting(): void {
    if (this.startSweeping) return;
    this.startSweeping = this.kernel
      .startOrphans()
      .catch((error: Error) => this.shared.logger.debug('orphaned-run sweep failed', { error: error.message }))
      .finally(() => {
        this.startSweeping = undefined;
      });
  }

  /** One sweep at a time; a failed sweep (Redis away) is retried by the next tick. */
  private sweepDeadlines(): void {
    if (this.sweeping) return;
    this.sweeping = this.kernel
      .timeOutDue()
      .catch((error: Error) => this.shared.logger.debug('deadline sweep failed', { error: error.message }))
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  private async runTaskJob(
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
    slots: InlineSlots,
  ): Promise<unknown> {
    const e = (job.data as { e: string }).e;
    let ids = this.shared.running.get(e);
    if (!ids) {
      ids = new Set();
      this.shared.running.set(e, ids);
    }
    ids.add(job.id as string);
    const carry: Carry | undefined = job.name === 'subtask' ? undefined : { inline: this.inline, slots };
    try {
      let result: unknown;
      try {
        result = await this.runJob(job, token, signal, carry);
      } catch (error) {
        // A task whose completion made a dependent ready may still fail the job (say continue_on_failure): the
        // dependent runs first, since the job must not end before it is recorded or queued.
        if (lockLost(error)) {
          dropBranches(carry);
          throw error;
        }
        await this.carryOn(job, token, signal, carry);
        throw error;
      }
      await this.carryOn(job, token, signal, carry);
      return result;
    } finally {
      ids.delete(job.id as string);
      if (ids.size === 0) this.shared.running.delete(e);
    }
  }

  private async runJob(
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
    carry: Carry | undefined,
  ): Promise<unknown> {
    const observed = this.options.observer ? await this.observe(job) : undefined;
    const traced = this.spans ? await this.spans.start(job) : undefined;
    const log = attemptLogOf(this.ctx, job, this.shared.logger);
    let outcome: TaskOutcome = 'completed';
    let failure: unknown;
    try {
      const run = async () => {
        if (job.name === 'subtask') return this.runner.runSubTask(job as Job<SubTaskJobData>, token, signal, log);
        outcome = await this.runner.runTask(job as Job<TaskJobData>, token, signal, log, carry);
        return undefined;
      };
      // Under the attempt's span: the handler, its log lines, service calls and sub-runs are part of the trace.
      return await (traced ? context.with(traced.context, run) : run());
    } catch (error) {
      outcome = outcomeOf(error);
      failure = error;
      throw error;
    } finally {
      const ending = endingOf(outcome);
      if (ending) await log.end(ending);
      if (traced) this.spans?.end(traced, job, outcome, failure);
      if (observed) {
        this.options.observer?.jobEnded?.({ ...observed, outcome, durationMs: performance.now() - observed.at });
      }
    }
  }

  /**
   * After the job's own attempt: the dependents it carries, then, if one of its completions was the run's last, the
   * end of the run (now rather than when the workflow job runs, which then finds it ended; the job is still a
   * pending child, so nothing races it). Its attempts' logs are closed by then, so whoever hears the run end reads
   * them whole.
   */
  private async carryOn(
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
    carry: Carry | undefined,
  ): Promise<void> {
    if (!carry) return;
    if (carry.next !== undefined || carry.branches?.length) await this.chains.run(job, token, signal, carry);
    if (!carry.lastTask) return;
    const e = (job.data as TaskJobData).e;
    const status = await this.kernel.endRun(e, carry.end).catch((error: Error) => {
      this.shared.logger.debug('could not end the run; its workflow job will', {
        execution_id: e,
        error: error.message,
      });
    });
    if (status && isFinalStatus(status)) await this.ctx.queues.dropWorkflowJob(e).catch(() => 0);
  }

  /** Tells the observer a job started: its task type, attempt and (on its first run) how long it was queued. */
  private async observe(job: Job): Promise<{ type: string; attempt: number; at: number }> {
    const data = job.data as { e: string; t: string; type?: string };
    const type =
      job.name === 'subtask'
        ? (data.type ?? 'unknown')
        : ((await this.ctx.store.definition(data.e).catch(() => undefined))?.tasks[data.t]?.type ?? 'unknown');
    const attempt = job.attemptsMade + 1;
    // attemptsStarted counts every move to active: 1 is the job's first run, the only one whose wait is queueing.
    const first = job.attemptsStarted <= 1 && job.processedOn !== undefined;
    const waitedMs = first
      ? Math.max(0, (job.processedOn as number) - job.timestamp - (job.opts.delay ?? 0))
      : undefined;
    this.options.observer?.jobStarted?.(waitedMs === undefined ? { type, attempt } : { type, attempt, waitedMs });
    return { type, attempt, at: performance.now() };
  }

  /** Runs when every task job of the run is done; a paused run goes back to waiting, behind a hold child. */
  private async finalizeJob(job: Job<{ e: string }>, token: string | undefined): Promise<{ status: string }> {
    const { store } = this.ctx;
    // Ended here already (by its last task's job, just before): nothing to read.
    const ended = this.kernel.endedHere(job.data.e);
    if (ended) return { status: ended };
    if ((await store.status(job.data.e)) === 'paused') {
      if (!(await job.moveToWaitingChildren(token as string))) {
        await this.kernel.hold(job.data.e, await store.nextPause(job.data.e));
        if (!(await job.moveToWaitingChildren(token as string)))
          throw new Error('paused run could not wait for its hold');
      }
      throw new WaitingChildrenError();
    }
    // `exiting`: the run's exit handlers were added as this job's children; it runs again once they are done.
    for (let pass = 0; pass < 3; pass++) {
      const status = await this.kernel.endRun(job.data.e);
      if (status !== 'exiting') return { status };
      if (await job.moveToWaitingChildren(token as string)) throw new WaitingChildrenError();
    }
    throw new Error(`run ${job.data.e}: its exit handlers neither ran nor ended`);
  }

  private async controlJob(job: Job<{ e: string }>): Promise<unknown> {
    if (job.name === 'recovery') return this.recovery?.run();
    if (job.name === 'hold') return undefined; // promoted by resume or abort: completing it lets the run end
    return this.shared.controlJob(job);
  }
}

/** Default sweep period: timeouts fire within a quarter second, at four cheap script calls a second per worker. */
export const DEADLINE_SWEEP_MS = 250;

/** Orphaned runs (created, never enqueued) are looked for once a second: one cheap script call when there is none. */
export const START_SWEEP_MS = 1000;
