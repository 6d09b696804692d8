import { hostname } from 'node:os';
import { TASK_TYPES } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { isConnectionError, QUEUES, taskQueueName } from '@orch/redis';
import type { AttemptEnding } from '@orch/run-model';
import { context, tracingOn } from '@orch/tracing';
import { DelayedError, type Job, type MinimalJob, UnrecoverableError, WaitingChildrenError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AttemptLog } from './attempt-log';
import type { TaskHandlers } from './control-flow';
import type { EngineContext } from './engine-context';
import { type BackoffSpec, backoffDelay } from './execution-definition';
import { RecoveryManager, type RecoveryOptions } from './recovery/recovery-manager';
import type { RunKernel } from './run-kernel';
import { ScheduleManager } from './schedule-manager';
import { lockLost } from './task-errors';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskObserver, TaskOutcome } from './task-observer';
import { TASK_TIMEOUT, TaskRunner, type TemplateResolver, WORKFLOW_ABORT, WorkflowAbortError } from './task-runner';
import { TaskSpans } from './task-spans';
import { HEARTBEAT_MS, HeartbeatLoop } from './worker-heartbeat';
import type { WorkerHeartbeat } from './worker-registry';
import { internalsOf, type WorkflowEngine } from './workflow-engine';

/** The engine's version, as workers report it in their heartbeats. */
const ENGINE_VERSION: string = (require('../package.json') as { version: string }).version;

export interface EngineWorkerOptions {
  engine: WorkflowEngine;
  handlers: TaskHandlers;
  /** A dedicated connection for the abort channel (a subscribed client can do nothing else). */
  subscriber: Redis;
  /** Task jobs this process runs at once (on each task queue it serves). */
  concurrency: number;
  /** The task queues (`queue:`) whose jobs this worker runs; `['default']` when absent (WORKER_QUEUES). */
  queues?: readonly string[];
  /** BullMQ lock and stall check (defaults 4 s and 2 s); a killed worker's jobs run again within about the lock. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  logger?: Logger;
  /** Shown per task attempt in the record and events; defaults to `<hostname>:<pid>`. */
  name?: string;
  /** Resolves `workflow` tasks' template references (the worker's template catalog). */
  templates?: TemplateResolver;
  /** With these, the worker schedules the recovery pass (one schedule for all workers) and runs it when due. */
  recovery?: RecoveryOptions & { intervalMs: number };
  /** How often this worker sweeps the deadline set for runs to time out (a run times out at most this late). */
  deadlineSweepMs?: number;
  /** How often this worker looks for admitted runs whose first jobs never reached the queue (default 1 s). */
  startSweepMs?: number;
  /** Told about every task job this worker runs and every stall it finds (the worker app's metrics). */
  observer?: TaskObserver;
  /** What its heartbeats say: the task types it runs (default: the catalog's), its kind and version. */
  identity?: { taskTypes?: readonly string[]; kind?: 'stock' | 'sdk'; version?: string };
  heartbeatMs?: number;
  /**
   * Only task jobs: no workflow or control jobs, no deadline sweep (an SDK worker, which runs its own task types and
   * leaves ending runs, schedules and recovery to the stock workers and their settings).
   */
  tasksOnly?: boolean;
}

/**
 * BullMQ's job lock and stall check (WORKER_LOCK_DURATION, WORKER_STALLED_INTERVAL): a killed worker's jobs run again
 * within about the lock, at a few dozen Redis commands a second per busy worker, with no false stall on a saturated
 * machine (bench/src/lock-stall.ts; the README's Recovery section has the table).
 */
export const DEFAULT_LOCK_MS = 4000;
export const DEFAULT_STALLED_INTERVAL_MS = 2000;

/** Default sweep period: timeouts fire within a quarter second, at four cheap script calls a second per worker. */
export const DEADLINE_SWEEP_MS = 250;

/** Orphaned runs (created, never enqueued) are looked for once a second: one cheap script call when there is none. */
export const START_SWEEP_MS = 1000;

/**
 * One worker process's share of the engine: a BullMQ Worker for task jobs, one for workflow jobs (they finalise runs)
 * and one for control jobs (recovery, schedules, pause holds), the subscription through which runs abort their
 * running tasks, and the sweep that times out runs past their deadline.
 */
export class EngineWorker {
  readonly workers: Worker[];
  readonly name: string;
  private readonly runner: TaskRunner;
  private readonly logger: Logger;
  /** Running task jobs by execution, so an abort message can cancel exactly those. */
  private readonly running = new Map<string, Set<string>>();
  /** One BullMQ Worker per task queue served. */
  private readonly taskWorkers: Worker[];
  readonly queues: readonly string[];
  private closing?: Promise<void>;
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  private startSweeper?: NodeJS.Timeout;
  private startSweeping?: Promise<unknown>;
  readonly recovery?: RecoveryManager;
  readonly schedules: ScheduleManager;
  private readonly ctx: EngineContext;
  private readonly kernel: RunKernel;
  private readonly heartbeat: HeartbeatLoop;
  private readonly startedAt = new Date().toISOString();
  /** Only when this process traces. */
  private readonly spans?: TaskSpans;

  constructor(private readonly options: EngineWorkerOptions) {
    ({ ctx: this.ctx, kernel: this.kernel } = internalsOf(options.engine));
    this.logger = options.logger ?? silentLogger();
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    if (tracingOn()) this.spans = new TaskSpans(this.ctx, this.name);
    this.runner = new TaskRunner(this.ctx, this.kernel, options.handlers, this.logger, this.name, options.templates);
    const base = {
      ...this.ctx.queues.workerConnection,
      lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: 2,
      autorun: false,
    };
    this.queues = options.queues?.length ? [...new Set(options.queues)] : ['default'];
    this.taskWorkers = this.queues.map(
      (queue) =>
        new Worker(taskQueueName(queue), (job, token, signal) => this.runTaskJob(job, token, signal), {
          ...base,
          concurrency: options.concurrency,
          settings: { backoffStrategy: (attemptsMade, _type, error, job) => retryDelay(attemptsMade, job, error) },
        }),
    );
    this.workers = [...this.taskWorkers];
    if (!options.tasksOnly) {
      const workflowWorker = new Worker(QUEUES.workflows, (job, token) => this.finalizeJob(job, token), {
        ...base,
        concurrency: 16,
      });
      const controlWorker = new Worker(QUEUES.control, (job) => this.controlJob(job), { ...base, concurrency: 4 });
      this.workers.push(workflowWorker, controlWorker);
    }
    this.heartbeat = new HeartbeatLoop(
      this.ctx.workers,
      () => this.describe(),
      options.heartbeatMs ?? HEARTBEAT_MS,
      this.logger,
    );
    if (options.recovery) this.recovery = new RecoveryManager(this.ctx, this.kernel, options.recovery, this.logger);
    this.schedules = new ScheduleManager(options.engine, this.logger);
    for (const worker of this.workers) {
      worker.on('error', (error) => {
        const level = isConnectionError(error) ? 'debug' : 'error'; // outages: logged once by the connection watcher
        this.logger.log(level, 'worker error', { queue: worker.name, error: error.message });
      });
      const observer = options.observer;
      if (observer?.jobStalled) worker.on('stalled', (jobId) => observer.jobStalled?.({ queue: worker.name, jobId }));
    }
  }

  /** Subscribes to aborts, then starts taking jobs. */
  async start(): Promise<void> {
    const channel = this.ctx.channels.abort;
    this.options.subscriber.on('message', (ch: string, id: string) => {
      if (ch === channel) this.abortLocal(id);
    });
    await this.options.subscriber.subscribe(channel);
    if (this.recovery && this.options.recovery) await this.recovery.schedule(this.options.recovery.intervalMs);
    for (const worker of this.workers) void worker.run();
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    if (!this.options.tasksOnly) {
      this.sweeper = setInterval(() => this.sweepDeadlines(), this.options.deadlineSweepMs ?? DEADLINE_SWEEP_MS);
      this.startSweeper = setInterval(() => this.sweepStarting(), this.options.startSweepMs ?? START_SWEEP_MS);
    }
    await this.heartbeat.start();
  }

  /** This worker as its heartbeat describes it. */
  private describe(): Omit<WorkerHeartbeat, 'at'> {
    const { identity } = this.options;
    let active = 0;
    for (const ids of this.running.values()) active += ids.size;
    return {
      name: this.name,
      host: hostname(),
      pid: process.pid,
      queues: [...this.queues],
      task_types: [...(identity?.taskTypes ?? TASK_TYPES)],
      concurrency: this.options.concurrency,
      active,
      started_at: this.startedAt,
      heartbeat_ms: this.options.heartbeatMs ?? HEARTBEAT_MS,
      version: identity?.version ?? ENGINE_VERSION,
      kind: identity?.kind ?? 'stock',
    };
  }

  /** One sweep for orphaned runs at a time; a failed one is retried by the next tick (their markers stay). */
  private sweepStarting(): void {
    if (this.startSweeping) return;
    this.startSweeping = this.kernel
      .startOrphans()
      .catch((error: Error) => this.logger.debug('orphaned-run sweep failed', { error: error.message }))
      .finally(() => {
        this.startSweeping = undefined;
      });
  }

  /** One sweep at a time; a failed sweep (Redis away) is retried by the next tick. */
  private sweepDeadlines(): void {
    if (this.sweeping) return;
    this.sweeping = this.kernel
      .timeOutDue()
      .catch((error: Error) => this.logger.debug('deadline sweep failed', { error: error.message }))
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** `<execution id>`: the run is ending, abort all its jobs here. `job:<id>`: that job overran its timeout. */
  private abortLocal(message: string): void {
    // Cancelling a job a Worker does not run is a no-op, so each asks every task queue's.
    if (message.startsWith('job:')) {
      for (const worker of this.taskWorkers) worker.cancelJob(message.slice(4), TASK_TIMEOUT);
      return;
    }
    for (const jobId of this.running.get(message) ?? [])
      for (const worker of this.taskWorkers) worker.cancelJob(jobId, WORKFLOW_ABORT);
  }

  private async runTaskJob(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const e = (job.data as { e: string }).e;
    let ids = this.running.get(e);
    if (!ids) {
      ids = new Set();
      this.running.set(e, ids);
    }
    ids.add(job.id as string);
    const observed = this.options.observer ? await this.observe(job) : undefined;
    const traced = this.spans ? await this.spans.start(job) : undefined;
    const log = attemptLogOf(this.ctx, job, this.logger);
    let outcome: TaskOutcome = 'completed';
    let failure: unknown;
    try {
      const run = async () => {
        if (job.name === 'subtask') return this.runner.runSubTask(job as Job<SubTaskJobData>, token, signal, log);
        outcome = await this.runner.runTask(job as Job<TaskJobData>, token, signal, log);
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
      ids.delete(job.id as string);
      if (ids.size === 0) this.running.delete(e);
    }
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
    if (job.name === 'schedule')
      return this.schedules.fire(job as unknown as Job<{ s: string }>, this.options.templates);
    if (job.name === 'hold') return undefined; // promoted by resume or abort: completing it lets the run end
  }

  /** Stops taking jobs, lets running ones finish (or hands them back), then unsubscribes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      clearInterval(this.startSweeper);
      await Promise.all([this.sweeping, this.startSweeping]);
      await this.heartbeat.stop(this.name);
      await Promise.allSettled(this.workers.map((w) => w.close()));
      await this.options.subscriber.unsubscribe().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** How an attempt's log says it ended; none for a job that let go of the worker and comes back (same attempt). */
function endingOf(outcome: TaskOutcome): AttemptEnding | undefined {
  if (outcome === 'parked') return undefined;
  return outcome === 'failed' || outcome === 'retrying' || outcome === 'aborted' || outcome === 'lost'
    ? outcome
    : 'completed';
}

/** The log of the attempt a task or sub-task job runs (`<task>[<index>]` for a sub-task). */
function attemptLogOf(ctx: EngineContext, job: Job, logger: Logger): AttemptLog {
  const data = job.data as { e: string; t: string; i?: number };
  const task = job.name === 'subtask' ? `${data.t}[${data.i}]` : data.t;
  // The record's attempt number: re-runs after a lost worker count (stalledCounter), as the task runner counts them.
  return new AttemptLog(ctx.logs, data.e, task, job.attemptsMade + 1 + (job.stalledCounter ?? 0), () => logger);
}

/** The outcome of a job whose run threw. (The signal cannot tell: a task's own failure can abort its run.) */
function outcomeOf(error: unknown): TaskOutcome {
  if (error instanceof DelayedError || error instanceof WaitingChildrenError) return 'parked';
  if (error instanceof WorkflowAbortError) return 'aborted';
  if (lockLost(error)) return 'lost';
  return error instanceof UnrecoverableError ? 'failed' : 'retrying';
}

/** The task's backoff, but never sooner than a failure's own `retryAfterMs` (an http 429's Retry-After). */
function retryDelay(attemptsMade: number, job: MinimalJob | undefined, error: Error | undefined): number {
  const spec = (job?.data as { bp?: BackoffSpec } | undefined)?.bp;
  const after = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return Math.max(spec ? backoffDelay(spec, attemptsMade) : 0, typeof after === 'number' ? after : 0);
}
