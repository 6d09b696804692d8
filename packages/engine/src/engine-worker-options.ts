import type { Logger } from '@orch/logger';
import type { RedisClient } from '@orch/redis';
import type { TaskHandlers } from './control-flow';
import type { RecoveryOptions } from './recovery/recovery-manager';
import type { TaskObserver } from './task-observer';
import type { TemplateResolver } from './task-runner';
import type { WorkflowEngine } from './workflow-engine';

/** What an `EngineWorker` is built from (its partitions' `PartitionWorker`s read it too). */
export interface EngineWorkerOptions {
  engine: WorkflowEngine;
  handlers: TaskHandlers;
  /** A dedicated connection for the abort channel (a subscribed client can do nothing else). */
  subscriber: RedisClient;
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
  /** The partitions whose jobs this worker runs (WORKER_PARTITIONS); all when absent. */
  partitions?: readonly number[];
  /**
   * Inline continuation (WORKER_INLINE_CONTINUATION, default on): a job whose task completes runs the dependents
   * it made ready itself (one, and up to eight beside it in free slots) instead of queueing them (see `inlinable`
   * in inline-continuation.ts for which). Off while tracing, where every task keeps a job and its span.
   */
  inlineContinuation?: boolean;
}
