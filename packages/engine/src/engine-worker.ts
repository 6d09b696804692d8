import { hostname } from 'node:os';
import { TASK_TYPES } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { tracingOn } from '@orch/tracing';
import type { Job } from 'bullmq';
import { ConcurrencyShare } from './concurrency-share';
import type { EngineWorkerOptions } from './engine-worker-options';
import { PartitionWorker } from './partition-worker';
import { ScheduleManager } from './schedule-manager';
import { TASK_TIMEOUT, WORKFLOW_ABORT } from './task-errors';
import { HEARTBEAT_MS, HeartbeatLoop } from './worker-heartbeat';
import type { WorkerHeartbeat } from './worker-registry';
import { internalsOf } from './workflow-engine';

export type { EngineWorkerOptions } from './engine-worker-options';

export { DEADLINE_SWEEP_MS, START_SWEEP_MS } from './partition-worker';

/** The engine's version, as workers report it in their heartbeats. */
const ENGINE_VERSION: string = (require('../package.json') as { version: string }).version;

/**
 * BullMQ's job lock and stall check (WORKER_LOCK_DURATION, WORKER_STALLED_INTERVAL): a killed worker's jobs run again
 * within about the lock, at a few dozen Redis commands a second per busy worker, with no false stall on a saturated
 * machine (bench/src/lock-stall.ts; the README's Recovery section has the table).
 */
export const DEFAULT_LOCK_MS = 4000;
export const DEFAULT_STALLED_INTERVAL_MS = 2000;

/**
 * One worker process's share of the engine: a `PartitionWorker` per partition it serves (BullMQ Workers for task,
 * workflow and control jobs, and the sweeps), the subscription through which runs abort their running tasks, the
 * schedules and the heartbeat.
 */
export class EngineWorker {
  readonly name: string;
  readonly queues: readonly string[];
  readonly schedules: ScheduleManager;
  /** The partitions this worker serves, in order. */
  readonly partitions: readonly number[];
  private readonly parts: PartitionWorker[];
  private readonly logger: Logger;
  private readonly running = new Map<string, Set<string>>();
  private closing?: Promise<void>;
  private readonly heartbeat: HeartbeatLoop;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: EngineWorkerOptions) {
    const { parts, ctx } = internalsOf(options.engine);
    this.logger = options.logger ?? silentLogger();
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.queues = options.queues?.length ? [...new Set(options.queues)] : ['default'];
    const served = options.partitions?.length ? new Set(options.partitions) : undefined;
    const mine = parts.filter((p) => !served || served.has(p.ctx.partition));
    if (mine.length === 0) throw new RangeError(`serves none of the ${parts.length} partitions`);
    this.partitions = mine.map((p) => p.ctx.partition);
    const base = {
      lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: 2,
      autorun: false,
    };
    this.schedules = new ScheduleManager(options.engine, this.logger);
    const shared = {
      name: this.name,
      logger: this.logger,
      running: this.running,
      tracing: tracingOn(),
      controlJob: (job: Job) =>
        job.name === 'schedule'
          ? this.schedules.fire(job as unknown as Job<{ s: string }>, options.templates)
          : undefined,
    };
    // Each task queue's concurrency is the process's, shared by the partitions it serves as their load asks.
    const shares = new Map(this.queues.map((queue) => [queue, new ConcurrencyShare(options.concurrency)]));
    this.parts = mine.map((p) => new PartitionWorker(p.ctx, p.kernel, options, shared, base, shares, this.queues));
    this.heartbeat = new HeartbeatLoop(
      ctx.workers,
      () => this.describe(),
      options.heartbeatMs ?? HEARTBEAT_MS,
      this.logger,
    );
  }

  /** Every BullMQ Worker of this process (all partitions'). */
  get workers() {
    return this.parts.flatMap((p) => p.workers);
  }

  /** Subscribes to aborts, then starts taking jobs. */
  async start(): Promise<void> {
    const channel = internalsOf(this.options.engine).ctx.channels.abort;
    this.options.subscriber.on('message', (ch: string, id: string) => {
      if (ch === channel) this.abortLocal(id);
    });
    await this.options.subscriber.subscribe(channel);
    await Promise.all(this.parts.map((p) => p.start()));
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

  /** `<execution id>`: the run is ending, abort all its jobs here. `job:<id>`: that job overran its timeout. */
  private abortLocal(message: string): void {
    // Cancelling a job a Worker does not run is a no-op, so each asks every task queue's of every partition.
    if (message.startsWith('job:')) {
      for (const part of this.parts) part.cancel(message.slice(4), TASK_TIMEOUT);
      return;
    }
    for (const jobId of this.running.get(message) ?? [])
      for (const part of this.parts) part.cancel(jobId, WORKFLOW_ABORT);
  }

  /** Stops taking jobs, lets running ones finish (or hands them back), then unsubscribes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.heartbeat.stop(this.name);
      await Promise.allSettled(this.parts.map((p) => p.close()));
      await this.options.subscriber.unsubscribe().catch(() => undefined);
    })();
    return this.closing;
  }
}
