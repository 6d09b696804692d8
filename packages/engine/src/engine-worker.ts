import { hostname } from 'node:os';
import { type Logger, silentLogger } from '@orch/logger';
import { QUEUES } from '@orch/redis';
import { type Job, type MinimalJob, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskHandlers } from './control-flow';
import { type BackoffSpec, backoffDelay } from './execution-definition';
import type { ExecutionStatus } from './execution-record';
import { type SubTaskJobData, TaskRunner, WORKFLOW_ABORT } from './task-runner';
import type { TaskJobData, WorkflowEngine } from './workflow-engine';

export interface EngineWorkerOptions {
  engine: WorkflowEngine;
  handlers: TaskHandlers;
  /** A dedicated connection for the abort channel (a subscribed client can do nothing else). */
  subscriber: Redis;
  /** Task jobs this process runs at once. */
  concurrency: number;
  /** BullMQ lock and stall check; a killed worker's jobs restart after about lockDuration + stalledInterval. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  logger?: Logger;
  /** Shown per task attempt in the record and events; defaults to `<hostname>:<pid>`. */
  name?: string;
}

/**
 * One worker process's share of the engine: a BullMQ Worker for task jobs, one for workflow jobs (they finalise runs)
 * and one for control jobs (deadlines), plus the subscription through which runs abort their running tasks.
 */
export class EngineWorker {
  readonly workers: Worker[];
  readonly name: string;
  private readonly runner: TaskRunner;
  private readonly logger: Logger;
  /** Running task jobs by execution, so an abort message can cancel exactly those. */
  private readonly running = new Map<string, Set<string>>();
  private readonly taskWorker: Worker;
  private closing?: Promise<void>;

  constructor(private readonly options: EngineWorkerOptions) {
    const { engine } = options;
    this.logger = options.logger ?? silentLogger();
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.runner = new TaskRunner(engine, options.handlers, this.logger, this.name);
    const base = {
      connection: engine.redis,
      prefix: engine.prefix,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 2,
      autorun: false,
    };
    this.taskWorker = new Worker(QUEUES.tasks, (job, token, signal) => this.runTaskJob(job, token, signal), {
      ...base,
      concurrency: options.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, _error, job) => retryDelay(attemptsMade, job) },
    });
    const workflowWorker = new Worker(QUEUES.workflows, (job) => this.finalizeJob(job), { ...base, concurrency: 16 });
    const controlWorker = new Worker(QUEUES.control, (job) => this.controlJob(job), { ...base, concurrency: 4 });
    this.workers = [this.taskWorker, workflowWorker, controlWorker];
    for (const worker of this.workers) {
      worker.on('error', (error) => this.logger.error('worker error', { queue: worker.name, error: error.message }));
    }
  }

  /** Subscribes to aborts, then starts taking jobs. */
  async start(): Promise<void> {
    const channel = this.options.engine.keys.abortChannel();
    this.options.subscriber.on('message', (ch: string, id: string) => {
      if (ch === channel) this.abortLocal(id);
    });
    await this.options.subscriber.subscribe(channel);
    for (const worker of this.workers) void worker.run();
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private abortLocal(executionId: string): void {
    for (const jobId of this.running.get(executionId) ?? []) this.taskWorker.cancelJob(jobId, WORKFLOW_ABORT);
  }

  private async runTaskJob(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const e = (job.data as { e: string }).e;
    let ids = this.running.get(e);
    if (!ids) {
      ids = new Set();
      this.running.set(e, ids);
    }
    ids.add(job.id as string);
    try {
      if (job.name === 'subtask') return await this.runner.runSubTask(job as Job<SubTaskJobData>, token, signal);
      await this.runner.runTask(job as Job<TaskJobData>, token, signal);
      return undefined;
    } finally {
      ids.delete(job.id as string);
      if (ids.size === 0) this.running.delete(e);
    }
  }

  /** Runs when every task job of the run is done: decides the final status and ends the run. */
  private async finalizeJob(job: Job<{ e: string }>): Promise<{ status: string }> {
    const { engine } = this.options;
    const id = job.data.e;
    const def = await engine.store.definition(id);
    const [meta, fin] = await Promise.all([engine.store.meta(id), engine.redis.hgetall(engine.keys.finished(id))]);
    const unfinished = Object.keys(def.tasks).filter((t) => fin[t] === undefined);
    let status: ExecutionStatus;
    let mark = 'skipped';
    let error = meta.error ?? '';
    switch (meta.status) {
      case 'cancelling':
        [status, mark] = ['cancelled', 'cancelled'];
        break;
      case 'timing_out':
        [status, mark] = ['timed_out', 'cancelled'];
        break;
      case 'failing':
        [status, mark] = ['failed', 'upstream_failed'];
        break;
      case 'running': {
        const failed = Object.keys(def.tasks).filter((t) => fin[t] === 'failed' && def.tasks[t]?.failsWorkflow);
        status = failed.length > 0 ? 'failed' : 'completed';
        if (failed.length > 0) error = `task${failed.length > 1 ? 's' : ''} failed: ${failed.join(', ')}`;
        break;
      }
      default:
        return { status: meta.status ?? 'unknown' }; // already ended
    }
    await engine.finish(def, status, error, mark, unfinished);
    return { status };
  }

  private async controlJob(job: Job<{ e: string }>): Promise<void> {
    if (job.name === 'deadline') {
      const def = await this.options.engine.store.definition(job.data.e).catch(() => undefined);
      if (!def) return; // expired meanwhile
      await this.options.engine.abort(job.data.e, 'timing_out', `workflow timed out after ${def.timeoutMs} ms`);
    }
  }

  /** Stops taking jobs, lets running ones finish (or hands them back), then unsubscribes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.workers.map((w) => w.close()));
      await this.options.subscriber.unsubscribe().catch(() => undefined);
    })();
    return this.closing;
  }
}

function retryDelay(attemptsMade: number, job: MinimalJob | undefined): number {
  const spec = (job?.data as { bp?: BackoffSpec } | undefined)?.bp;
  return spec ? backoffDelay(spec, attemptsMade) : 0;
}
