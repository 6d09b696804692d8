import { CHILD_RUN_NOTE, type ExternalTaskTypeSpec, type PreparedWorkflow } from '@orch/core';
import { NotFoundError } from '@orch/errors';
import { closeConnection, type RedisClient } from '@orch/redis';
import type {
  ApprovalDecision,
  ExecutionEvent,
  ExecutionRecord,
  ExecutionStatus,
  ExecutionSummary,
  InternalStatus,
  TaskLogPage,
  WorkerInfo,
} from '@orch/run-model';
import type { Queue } from 'bullmq';
import { createEngineContexts, type EngineContext, type EngineOptions } from './engine-context';
import type { ExecutionDefinition, RunClaim } from './execution-definition';
import { type OperationalState, sumPartitionStates } from './operational-state';
import { parallelItems, type TaskItems, type TaskItemsQuery } from './parallel-items';
import { markUnservedQueues } from './queue-waits';
import { RunControl } from './run-control';
import type { ListOptions } from './run-index';
import { kernelOf, RunKernel } from './run-kernel';
import { listRuns } from './run-list';
import type { RunMeta } from './run-record-view';
import type { RetryResult, SubmitOptions, SubmitResult } from './run-submission';
import type { RecordReadOptions } from './script-inputs';
import { TaskLogFollower, type TaskLogQuery, taskLogPage } from './task-log-view';

/** One partition's parts. */
export interface PartitionParts {
  ctx: EngineContext;
  kernel: RunKernel;
  control: RunControl;
}

/**
 * The engine's parts behind a facade, for the worker side of this package only (see `internalsOf`): every partition's,
 * and (as `ctx` and `kernel`) partition 0's, which holds what is global (the schedules' job schedulers).
 */
export interface EngineInternals {
  ctx: EngineContext;
  kernel: RunKernel;
  parts: readonly PartitionParts[];
  /** The BullMQ client the partitions' queues share. */
  bull: RedisClient;
}

const internals = new WeakMap<WorkflowEngine, EngineInternals>();

/** The contexts and kernels of `engine`: for the worker, recovery and schedules of this package, and its tests. */
export function internalsOf(engine: WorkflowEngine): EngineInternals {
  const found = internals.get(engine);
  if (!found) throw new Error('not a WorkflowEngine');
  return found;
}

/**
 * How stale the API's view of the registered task types may be before a submit reads them again (a type registered
 * meanwhile is found anyway: a validation that fails reads them once more).
 */
export const TASK_TYPES_MAX_AGE_MS = 1000;

/**
 * The engine as the apps see it: submit, retry, cancel, pause, resume, decide, and read runs, their events and the
 * engine's operational state. Its Redis keys, scripts and queues are its own (see ARCHITECTURE.md): workers run
 * jobs through `EngineWorker`, which drives the same engine's run kernels. Runs are spread over partitions (one by
 * default); a call about one run goes to its partition, listings and counts gather every partition's.
 */
export class WorkflowEngine {
  private readonly parts: readonly PartitionParts[];
  /** Partition 0's context: the registries and the channels are the same in every partition. */
  private readonly ctx: EngineContext;
  private readonly bull: RedisClient;
  private closing?: Promise<void>;

  constructor(options: EngineOptions) {
    const { contexts, bull } = createEngineContexts(options);
    this.bull = bull;
    this.parts = contexts.map((ctx) => {
      const kernel = new RunKernel(ctx);
      return { ctx, kernel, control: new RunControl(ctx, kernel) };
    });
    this.ctx = (this.parts[0] as PartitionParts).ctx;
    const first = this.parts[0] as PartitionParts;
    internals.set(this, { ctx: first.ctx, kernel: first.kernel, parts: this.parts, bull });
  }

  /** The parts of the partition that holds run `id`. */
  private of(id: string): PartitionParts {
    return this.parts[this.ctx.partitions.ofId(id)] as PartitionParts;
  }

  /** How many partitions runs are spread over. */
  get partitionCount(): number {
    return this.parts.length;
  }

  /** The partition of a run (ids place runs; see `Partitions`). */
  partitionOf(id: string): number {
    return this.ctx.partitions.ofId(id);
  }

  /**
   * A new run's id for a caller that must know it before submitting (to listen for the run's end first): in the
   * claim's partition when the run has one, as `submit` requires.
   */
  newExecutionId(claim?: RunClaim): string {
    return this.ctx.partitions.newId(this.ctx.placement(claim ? { claim } : {}).partition);
  }

  /**
   * Creates a run. With a `claim` already held within the TTL, returns the existing run instead (a client's claim
   * with another fingerprint is a CONFLICT naming it): claim and run are written in one step, across replicas too.
   */
  submit(prepared: PreparedWorkflow, options: SubmitOptions = {}): Promise<SubmitResult> {
    return kernelOf(this.ctx.placement(options)).submit(prepared, options);
  }

  /**
   * A new run of a finished run's workflow that reuses the checkpointed outputs of its completed tasks and runs the
   * rest: the failed, cancelled and never-run tasks.
   */
  retry(id: string, options: Pick<SubmitOptions, 'submittedBy' | 'requestId'> = {}): Promise<RetryResult> {
    return this.of(id).kernel.retry(id, options);
  }

  /**
   * Makes `channel` the run's final-message channel unless it has one: for a bus request whose correlation id names
   * a run the bus did not create. `claimed`: its end sends the message there; `ended`: it has ended, the caller sends
   * it with `sendFinalMessage`; `taken`: it has a channel already (that requester is answered); `gone`: no such run.
   */
  claimResponder(id: string, channel: string): Promise<'gone' | 'taken' | 'claimed' | 'ended'> {
    return this.of(id).ctx.store.scripts.claimResponder(id, channel);
  }

  /** Publishes an ended run's final message on `channel`, as its end does for a bus request. */
  sendFinalMessage(id: string, channel: string): Promise<void> {
    return this.of(id).kernel.respond(id, channel);
  }

  /** Cancels a run: pending runs end at once, running ones stop starting tasks and abort the running ones. */
  cancel(id: string, reason?: string): Promise<ExecutionStatus> {
    return this.of(id).kernel.cancel(id, reason);
  }

  pause(id: string): Promise<ExecutionStatus> {
    return this.of(id).control.pause(id);
  }

  resume(id: string): Promise<ExecutionStatus> {
    return this.of(id).control.resume(id);
  }

  /** Approves or rejects an approval task; the first decision wins. */
  decide(
    id: string,
    taskId: string,
    decision: 'approve' | 'reject',
    payload?: unknown,
    by?: string,
  ): Promise<ApprovalDecision> {
    return this.of(id).control.decide(id, taskId, decision, payload, by);
  }

  /**
   * The full record (with variables and outputs); NotFoundError when the run does not exist. `carried`: the hashes
   * its finished message carried (`finishedRecord`), which spare the read when this process holds the definition.
   */
  async get(id: string, options: RecordReadOptions = {}): Promise<ExecutionRecord> {
    const { store } = this.of(id).ctx;
    const record = await store.get(id, options);
    if (!record) throw new NotFoundError('execution', id);
    if (record.status !== 'running' && record.status !== 'pending') return record;
    return markUnservedQueues(record, await store.definition(id), this.ctx.workers);
  }

  /** The run's internal status (`cancelling` and the like included); undefined when it does not exist. */
  status(id: string): Promise<InternalStatus | undefined> {
    return this.of(id).ctx.store.status(id);
  }

  /** The run's meta fields (status, correlation id, template, timestamps); empty when it does not exist. */
  meta(id: string): Promise<RunMeta> {
    return this.of(id).ctx.store.meta(id);
  }

  /** The compiled definition; NotFoundError when the run does not exist (or has expired). */
  async definition(id: string): Promise<ExecutionDefinition> {
    const { store } = this.of(id).ctx;
    if (!(await store.hasDefinition(id))) throw new NotFoundError('execution', id);
    return store.definition(id);
  }

  /** Runs, newest first, a page at a time. */
  list(options: ListOptions = {}): Promise<{ items: ExecutionSummary[]; next_cursor?: string }> {
    return listRuns(
      this.parts.map((p) => p.ctx.index),
      options,
    );
  }

  /** Events after `after` (exclusive; '0' for all), oldest first. */
  events(id: string, after = '0', count = 1000): Promise<ExecutionEvent[]> {
    return this.of(id).ctx.store.events(id, after, count);
  }

  /**
   * Waits up to `blockMs` for events after `after`, blocking `connection` (a client of the caller's that then serves
   * nobody else); null when none came.
   */
  waitForEvents(
    connection: RedisClient,
    id: string,
    after: string,
    options: { count: number; blockMs: number },
  ): Promise<ExecutionEvent[] | null> {
    return this.of(id).ctx.store.waitForEvents(connection, id, after, options);
  }

  /** The child run of each `workflow` task of the run that started one (its latest attempt's), by task id. */
  async childRuns(id: string): Promise<Map<string, string>> {
    const def = await this.definition(id);
    const tasks = def.workflow.tasks.filter((t) => t.type === 'workflow').map((t) => t.id);
    const children = await this.of(id).ctx.store.notes(id, CHILD_RUN_NOTE, tasks);
    return new Map(tasks.flatMap((t, i) => (children[i] ? [[t, children[i] as string]] : [])));
  }

  /**
   * The items (sub-tasks) of one attempt of a `parallel` task, read from their jobs: counts by status, and one page
   * of them with status, attempts, timings, output or error. For dashboards; NotFoundError for other tasks.
   */
  parallelItems(id: string, task: string, query: TaskItemsQuery = {}): Promise<TaskItems> {
    return parallelItems(this.of(id).ctx, id, task, query);
  }

  /**
   * One page of a task attempt's log (default: its latest attempt); NotFoundError when the run or the task does not
   * exist. A parallel task's items are `<task>[<index>]`.
   */
  taskLogs(id: string, task: string, query: TaskLogQuery = {}): Promise<TaskLogPage> {
    return taskLogPage(this.of(id).ctx, id, task, query);
  }

  /** Follows a task attempt's log live (the API's `?follow=true`); NotFoundError as `taskLogs`. */
  followTaskLogs(id: string, task: string, attempt?: number): Promise<TaskLogFollower> {
    return TaskLogFollower.open(this.of(id).ctx, id, task, attempt);
  }

  /** True while the run's keys exist (they expire a TTL after it ends). */
  exists(id: string): Promise<boolean> {
    return this.of(id).ctx.store.exists(id);
  }

  /** Pub/sub channel with one message per finished run: `{execution_id, status, correlation_id}`. */
  finishedChannel(): string {
    return this.ctx.channels.finished;
  }

  /**
   * What is accepted but not yet running: jobs waiting for a worker (tasks, and runs waiting to be ended), and runs
   * waiting for a slot. The API's backpressure samples it.
   */
  async backlog(): Promise<{ waitingJobs: number; pendingRuns: number }> {
    const counts = await Promise.all(
      this.parts.map(async ({ ctx }) => {
        const [waitingJobs, { pending }] = await Promise.all([ctx.queues.waitingJobs(), ctx.store.admissionCounts()]);
        return { waitingJobs, pendingRuns: pending };
      }),
    );
    return {
      waitingJobs: counts.reduce((n, c) => n + c.waitingJobs, 0),
      pendingRuns: counts.reduce((n, c) => n + c.pendingRuns, 0),
    };
  }

  /** One read of the engine's operational state, shared by `/status` and `/metrics`. */
  async operationalState(): Promise<OperationalState> {
    const [partitions, workers] = await Promise.all([
      Promise.all(
        this.parts.map(({ ctx }) =>
          Promise.all([ctx.store.admissionCounts(), ctx.store.counters(), ctx.queues.counts()]),
        ),
      ),
      this.ctx.workers.list(),
    ]);
    const live = workers.filter((w) => w.status === 'live').length;
    return {
      ...sumPartitionStates(partitions.map(([admission, counters, queues]) => ({ ...admission, counters, queues }))),
      workers: { live, lost: workers.length - live },
    };
  }

  /**
   * Loads the task types SDK workers registered, so the next validation knows them (call before preparing a
   * workflow). At most once per TASK_TYPES_MAX_AGE_MS unless `fresh` (for a validation that failed: a type may have
   * been registered since). Resolves true when the registrations changed.
   */
  loadTaskTypes(options: { fresh?: boolean } = {}): Promise<boolean> {
    return this.ctx.taskTypes.load(options.fresh ? 0 : TASK_TYPES_MAX_AGE_MS);
  }

  /** Registers SDK task types (an SDK worker at start); a built-in name is refused. */
  registerTaskTypes(specs: readonly ExternalTaskTypeSpec[]): Promise<void> {
    return this.ctx.taskTypes.register(specs);
  }

  /** Every worker that sent a heartbeat lately, live ones first (a worker missing 3 beats is `lost`). */
  workers(): Promise<WorkerInfo[]> {
    return this.ctx.workers.list();
  }

  /** Closes the queues and flow producers, then their BullMQ client; the connection belongs to the caller. Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled(this.parts.map((p) => p.ctx.queues.close())).then(async () => {
      await this.bull.quit().catch(() => this.bull.disconnect());
    });
    return this.closing;
  }

  /** Ends the engine's own (BullMQ) connection at once: for a shutdown that gave up waiting on a Redis that is gone. */
  disconnect(): Promise<void> {
    return closeConnection(this.bull);
  }
}

/** A queue as Bull Board shows it. */
export interface DashboardQueue {
  /** Bull Board's name for it: the queue's name, after `p<partition>.` when runs are spread over partitions. */
  name: string;
  /** What goes before the queue's name (`p3.`, or nothing with one partition): Bull Board's adapter `prefix`. */
  prefix: string;
  queue: Queue;
}

/** The engine's queues (every partition's), for Bull Board to show; nothing else should hold them. */
export function dashboardQueues(engine: WorkflowEngine): DashboardQueue[] {
  const { parts } = internalsOf(engine);
  return parts.flatMap(({ ctx }) => {
    const prefix = parts.length > 1 ? `p${ctx.partition}.` : '';
    return ctx.queues.all().map((queue) => ({ name: `${prefix}${queue.name}`, prefix, queue }));
  });
}
