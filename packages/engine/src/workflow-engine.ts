import { randomUUID } from 'node:crypto';
import type { PreparedWorkflow } from '@orch/core';
import { NotFoundError, OrchestratorError } from '@orch/errors';
import { type Logger, silentLogger } from '@orch/logger';
import { QUEUES, RedisKeys } from '@orch/redis';
import { type FlowJob, FlowProducer, Job, type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type EngineScripts, engineScripts, scriptCommand } from './engine-scripts';
import { compileExecution, type ExecutionDefinition } from './execution-definition';
import { type ExecutionRecord, type ExecutionStatus, publicStatus, TERMINAL_STATUSES } from './execution-record';
import { ExecutionStore } from './execution-store';
import { type ApprovalDecision, approvalField, childField, PARKED_MS } from './parked-jobs';

/** Ready tasks released with separate adds rather than one addBulk (see `release`). */
const SEPARATE_ADDS_UP_TO = 8;

/** Completed task jobs kept per queue (for Bull Board); the run record keeps every task. */
export const COMPLETED_TASK_JOBS_KEPT = 1000;

/** The BullMQ job states counted by `operationalState()`. */
export const QUEUE_STATES = [
  'waiting',
  'waiting-children',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
] as const;

/** What `/status` and `/metrics` report: slots in use, runs waiting, recovery counters, job counts per queue. */
export interface OperationalState {
  active: number;
  pending: number;
  recovery: Record<string, number>;
  queues: Record<string, Record<(typeof QUEUE_STATES)[number], number>>;
}

export interface EngineOptions {
  /** Used for the engine's own commands and shared by its queues. */
  connection: Redis;
  /** BullMQ's key prefix, and the prefix of the engine's own keys. */
  prefix?: string;
  maxConcurrentWorkflows: number;
  executionTtlMs: number;
  defaultWorkflowTimeoutMs: number;
  logger?: Logger;
}

export interface SubmitOptions {
  correlationId?: string;
  /** For a sub-workflow: the waiting task, and the depth of the run it belongs to plus one. */
  parent?: { executionId: string; taskId: string; jobId: string; depth: number };
  /** Pub/sub channel that gets the run's final message (the message bus sets `workflow-responses`). */
  respondTo?: string;
  /** Kept with the run and put on every log line of its tasks; a sub-workflow inherits its parent's. */
  requestId?: string;
}

export interface SubmitResult {
  executionId: string;
  status: ExecutionStatus;
  /** False when `correlationId` was already used: `executionId` is the existing run. */
  created: boolean;
}

/** Data of a task job: execution and task id, the backoff spec, and the step of a delay or parallel task. */
export interface TaskJobData {
  e: string;
  t: string;
  bp?: [string, number, number, number];
  until?: number;
  step?: 'children';
  /** A `workflow` task's child run, and the attempt that started it. */
  child?: string;
  childAttempt?: number;
}

/**
 * The engine's entry points shared by the API and the workers: submit, start, cancel, abort, finalise, read.
 * Execution jobs: `workflows/<id>` is the parent of every task job `tasks/<id>.<task>`; tasks are added as they
 * become ready (see ARCHITECTURE.md), so BullMQ runs the workflow job once all of them are done.
 */
export class WorkflowEngine {
  readonly keys: RedisKeys;
  readonly store: ExecutionStore;
  readonly scripts: EngineScripts;
  readonly queues: { workflows: Queue; tasks: Queue; control: Queue };
  readonly flows: FlowProducer;
  readonly prefix: string;
  readonly logger: Logger;
  /** The queues' and flow producer's client (a duplicate of the engine's). */
  readonly bullConnection: Redis;
  /** How long finished jobs and records are kept, in seconds (BullMQ's `age` unit). */
  readonly ttlSeconds: number;
  private closing?: Promise<void>;

  constructor(readonly options: EngineOptions) {
    this.prefix = options.prefix ?? 'orch';
    this.keys = new RedisKeys(this.prefix);
    this.store = new ExecutionStore(options.connection, this.keys);
    this.scripts = engineScripts(options.connection);
    this.logger = options.logger ?? silentLogger();
    // BullMQ gets its own client: ioredis copies every script defined on a client into each pipeline it makes, and
    // BullMQ defines about 60, which cost the engine's own pipelines ~10% CPU when they shared one.
    this.bullConnection = options.connection.duplicate();
    const shared = { connection: this.bullConnection, prefix: this.prefix };
    // BullMQ's own event streams are capped (default 10,000 entries, ~700 KB per queue); the engine reads none of
    // them (runs have their own streams), so a short tail for dashboards is enough.
    const queueOptions = { ...shared, streams: { events: { maxLen: 1000 } } };
    this.queues = {
      workflows: new Queue(QUEUES.workflows, queueOptions),
      tasks: new Queue(QUEUES.tasks, queueOptions),
      control: new Queue(QUEUES.control, queueOptions),
    };
    this.flows = new FlowProducer(shared);
    // The connection's owner logs its errors; without a listener BullMQ would print each one to the console.
    const quiet = (error: Error) => this.logger.debug('queue connection error', { error: error.message });
    for (const queue of Object.values(this.queues)) queue.on('error', quiet);
    this.flows.on('error', quiet);
    this.bullConnection.on('error', quiet);
    this.ttlSeconds = Math.max(1, Math.ceil(options.executionTtlMs / 1000));
  }

  get redis(): Redis {
    return this.options.connection;
  }

  /**
   * Creates a run. With a `correlationId` already used within the TTL, returns the existing run instead: the SET NX
   * makes that hold across API replicas racing on the same id.
   */
  async submit(prepared: PreparedWorkflow, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.create(prepared, options);
  }

  /**
   * A new run of a finished run's workflow that reuses the checkpointed outputs of its completed tasks and runs the
   * rest: the failed, cancelled and never-run tasks.
   */
  async retry(
    id: string,
    options: { requestId?: string } = {},
  ): Promise<SubmitResult & { retried_from: string; reused: string[] }> {
    const [def, fin, outputs, meta] = await Promise.all([
      this.store.definition(id).catch(() => {
        throw new NotFoundError('execution', id);
      }),
      this.redis.hgetall(this.keys.finished(id)),
      this.redis.hgetall(this.keys.outputs(id)),
      this.store.meta(id),
    ]);
    if (!TERMINAL_STATUSES.has(meta.status ?? '')) {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(meta.status ?? '')}; only a finished run can be retried`,
      );
    }
    const reused = Object.keys(def.tasks).filter((t) => fin[t] === 'completed' && outputs[t] !== undefined);
    if (reused.length === Object.keys(def.tasks).length) {
      throw new OrchestratorError('CONFLICT', `execution ${id} completed every task; there is nothing to retry`);
    }
    const seed = Object.fromEntries(reused.map((t) => [t, outputs[t] as string]));
    const result = await this.create(
      { workflow: def.workflow, variables: def.variables, dag: undefined as never, template: def.template },
      { retriedFrom: id, seed, compiled: def, requestId: options.requestId },
    );
    return { ...result, retried_from: id, reused };
  }

  private async create(
    prepared: PreparedWorkflow,
    options: SubmitOptions & {
      retriedFrom?: string;
      seed?: Record<string, string>;
      compiled?: ExecutionDefinition;
    } = {},
  ): Promise<SubmitResult> {
    const executionId = randomUUID();
    const def: ExecutionDefinition = options.compiled
      ? { ...options.compiled, executionId, correlationId: options.correlationId, createdAt: Date.now() }
      : compileExecution(executionId, prepared, {
          defaultTimeoutMs: this.options.defaultWorkflowTimeoutMs,
          correlationId: options.correlationId,
        });
    if (options.correlationId) {
      const key = this.keys.correlation(options.correlationId);
      const ttl = def.timeoutMs + this.options.executionTtlMs;
      const claimed = await this.redis.set(key, executionId, 'PX', ttl, 'NX');
      if (claimed === null) {
        const existing = await this.redis.get(key);
        if (existing) {
          const status = publicStatus((await this.redis.hget(this.keys.meta(existing), 'status')) ?? 'pending');
          return { executionId: existing, status, created: false };
        }
        await this.redis.set(key, executionId, 'PX', ttl);
      }
    }
    if (options.parent) {
      const { depth, ...parent } = options.parent;
      def.parent = parent;
      def.depth = depth;
    }
    if (options.requestId) def.requestId = options.requestId;
    else delete def.requestId; // a retry's copy of the definition must not keep the first run's request
    const extra: Record<string, string> = {};
    if (options.requestId) extra.request_id = options.requestId;
    if (options.respondTo) extra.respond_to = options.respondTo;
    if (options.parent) extra.parent_execution_id = options.parent.executionId;
    if (options.retriedFrom) extra.retried_from = options.retriedFrom;
    // One round trip writes the run and admits it (marking it running, with its deadline) or queues it.
    const replies = await this.store.create(def, extra, options.seed, (multi) => {
      const admitRun = (multi as unknown as Record<string, (...args: (string | number)[]) => unknown>)[
        scriptCommand('admitRun')
      ];
      admitRun?.call(
        multi,
        this.keys.active(),
        this.keys.pending(),
        this.keys.meta(executionId),
        this.keys.events(executionId),
        this.keys.deadlines(),
        executionId,
        this.options.maxConcurrentWorkflows,
        Date.now(),
        def.timeoutMs,
      );
    });
    if (replies.at(-1) === 1) {
      await this.launch(def, options.seed ? await this.frontier(def) : def.roots);
      return { executionId, status: 'running', created: true };
    }
    return { executionId, status: 'pending', created: true };
  }

  /**
   * Starts an admitted run: status and deadline first (tasks start only in a running run), then its jobs.
   * `first` are the tasks to enqueue with the run: its roots, or for a retry the tasks that did not complete.
   */
  async start(def: ExecutionDefinition, first: string[] = def.roots): Promise<void> {
    const id = def.executionId;
    const now = Date.now();
    await this.redis
      .multi()
      .hset(this.keys.meta(id), 'status', 'running', 'started_at', String(now))
      .xadd(this.keys.events(id), '*', 'type', 'workflow.started', 'at', String(now))
      .zadd(this.keys.deadlines(), now + def.timeoutMs, id)
      .exec();
    await this.launch(def, first);
  }

  /**
   * Adds a running run's first jobs. Its deadline is an entry in the deadline set, written with its status; the
   * workers sweep that set (a delayed job per run cost two BullMQ scripts, one to add and one to remove it).
   */
  private async launch(def: ExecutionDefinition, first: string[]): Promise<void> {
    await this.startJobs(def, first);
    this.logger.info('workflow started', {
      execution_id: def.executionId,
      correlation_id: def.correlationId,
      tasks: Object.keys(def.tasks).length,
    });
  }

  /**
   * Times out every run whose deadline has passed; each is claimed by one caller (the workers call this on a timer).
   * Returns the runs it timed out.
   */
  async timeOutDue(now = Date.now(), batch = 100): Promise<string[]> {
    const due: string[] = [];
    // Claimed in batches, so one script call never holds Redis for long however many runs are due at once.
    for (;;) {
      const claimed = await this.scripts.claimDeadlines([this.keys.deadlines()], [now, batch]);
      due.push(...claimed);
      if (claimed.length < batch) break;
    }
    for (const id of due) {
      const def = await this.store.definition(id).catch(() => undefined);
      if (!def) continue; // expired meanwhile
      await this.abort(id, 'timing_out', `workflow timed out after ${def.timeoutMs} ms`).catch((error: Error) =>
        this.logger.warn('could not time out a run', { execution_id: id, error: error.message }),
      );
    }
    return due;
  }

  /** Adds the workflow job with `first` as its children, in one atomic FlowProducer.add. */
  async startJobs(def: ExecutionDefinition, first: string[]): Promise<void> {
    const root: FlowJob = {
      name: 'workflow',
      queueName: QUEUES.workflows,
      data: { e: def.executionId },
      opts: {
        jobId: def.executionId,
        removeOnComplete: { age: this.ttlSeconds },
        removeOnFail: { age: this.ttlSeconds },
      },
      children: first.map((t) => ({ queueName: QUEUES.tasks, ...this.taskJob(def, t) })),
    };
    await this.flows.add(root);
  }

  /** Sets each task's fan-in counter: its dependencies that have not finished (all of them, for a fresh run). */
  async resetWaits(def: ExecutionDefinition, finished: Record<string, string> = {}): Promise<void> {
    const waits: Record<string, number> = {};
    for (const task of Object.values(def.tasks)) {
      if (task.deps.length > 0) waits[task.id] = task.deps.filter((d) => finished[d] === undefined).length;
    }
    const key = this.keys.waits(def.executionId);
    const multi = this.redis.multi().del(key);
    if (Object.keys(waits).length > 0) multi.hset(key, waits);
    await multi.exec();
  }

  /** Tasks not finished whose dependencies all are (the roots of a fresh run; for a retry, what did not complete). */
  async frontier(def: ExecutionDefinition): Promise<string[]> {
    const fin = await this.redis.hgetall(this.keys.finished(def.executionId));
    return Object.values(def.tasks)
      .filter((t) => fin[t.id] === undefined && t.deps.every((d) => fin[d] !== undefined))
      .map((t) => t.id);
  }

  /** The BullMQ job of one task. Its id is deterministic, so adding it twice is a no-op while it exists. */
  taskJob(def: ExecutionDefinition, taskId: string, parent?: { id: string; queue: string }) {
    const task = def.tasks[taskId];
    if (!task) throw new Error(`task ${taskId} is not in execution ${def.executionId}`);
    const data: TaskJobData = { e: def.executionId, t: taskId };
    const opts: JobsOptions = {
      jobId: `${def.executionId}.${taskId}`,
      attempts: task.attempts,
      // A failed task must not fail the workflow job: the engine decides what a failure means.
      ignoreDependencyOnFailure: true,
      // Releases are gated by completion records, not by job ids, so completed task jobs need not outlive their
      // run: keep the newest 1,000 for Bull Board and drop the rest (a job hash is most of a task's Redis cost).
      removeOnComplete: { age: this.ttlSeconds, count: COMPLETED_TASK_JOBS_KEPT },
      removeOnFail: { age: this.ttlSeconds },
    };
    if (task.backoff) {
      data.bp = task.backoff;
      opts.backoff = { type: 'orch' };
    }
    if (parent) opts.parent = parent;
    return { name: task.type, data, opts };
  }

  /** Adds ready tasks as children of the workflow job. */
  async release(def: ExecutionDefinition, taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const parent = { id: def.executionId, queue: this.queues.workflows.qualifiedName };
    if (taskIds.length <= SEPARATE_ADDS_UP_TO) {
      // A few adds cost less one by one: BullMQ's addBulk makes an ioredis pipeline, and every pipeline copies the
      // ~60 scripts BullMQ defines on its client (~30 µs, more than the round trips it saves for a handful).
      await Promise.all(
        taskIds.map((t) => {
          const { name, data, opts } = this.taskJob(def, t, parent);
          return this.queues.tasks.add(name, data, opts);
        }),
      );
      return;
    }
    await this.queues.tasks.addBulk(taskIds.map((t) => this.taskJob(def, t, parent)));
  }

  /** Cancels a run: pending runs end at once, running ones stop starting tasks and abort the running ones. */
  async cancel(id: string, reason = 'cancelled by request'): Promise<ExecutionStatus> {
    return this.abort(id, 'cancelling', reason);
  }

  /** Moves a run to `cancelling` or `timing_out`, and tells every worker to abort its tasks. */
  async abort(id: string, status: 'cancelling' | 'timing_out', reason: string): Promise<ExecutionStatus> {
    const before = await this.scripts.abort([this.keys.meta(id), this.keys.events(id)], [status, reason, Date.now()]);
    if (before === '') throw new NotFoundError('execution', id);
    if (before === 'pending') {
      await this.redis.lrem(this.keys.pending(), 0, id);
      const def = await this.store.definition(id);
      await this.finish(
        def,
        status === 'cancelling' ? 'cancelled' : 'timed_out',
        reason,
        'cancelled',
        Object.keys(def.tasks),
      );
      return status === 'cancelling' ? 'cancelled' : 'timed_out';
    }
    if (before === 'running' || before === 'paused') await this.broadcastAbort(id);
    return publicStatus((await this.redis.hget(this.keys.meta(id), 'status')) ?? before);
  }

  /**
   * Asks every worker to abort this run's running tasks, and brings its delayed jobs (delay tasks, retry backoffs)
   * forward so they end now instead of when their timer fires.
   */
  async broadcastAbort(id: string): Promise<void> {
    await this.redis.publish(this.keys.abortChannel(), id);
    await this.promoteDelayed(this.queues.tasks, `${id}.`);
    await this.promoteDelayed(this.queues.control, `${id}.hold.`);
    // Sub-workflows end with the run that started them.
    const def = await this.store.definition(id).catch(() => undefined);
    const subTasks = def ? Object.values(def.tasks).filter((t) => t.type === 'workflow') : [];
    if (subTasks.length > 0) {
      const children = await this.redis.hmget(this.keys.tasks(id), ...subTasks.map((t) => childField(t.id)));
      for (const child of children) {
        if (child) await this.cancel(child, `the run that started it (${id}) is ending`).catch(() => undefined);
      }
    }
  }

  /** Promotes the delayed jobs whose ids start with `prefix`: they run now instead of when their timer fires. */
  private async promoteDelayed(queue: Queue, prefix: string): Promise<void> {
    const delayed = await this.redis.zrange(queue.toKey('delayed'), 0, -1);
    for (const jobId of delayed.filter((j) => j.startsWith(prefix))) {
      const job = await Job.fromId(queue, jobId);
      await job?.promote().catch(() => undefined); // it may have moved on by itself meanwhile
    }
  }

  /**
   * Pauses a running run: no task starts (queued ones are parked as delayed jobs), running ones finish, and a parked
   * `hold` child keeps the workflow job from ending the run meanwhile. The workflow timeout keeps counting.
   */
  async pause(id: string): Promise<ExecutionStatus> {
    const meta = await this.store.meta(id);
    if (!meta.status) throw new NotFoundError('execution', id);
    if (meta.status === 'paused') return 'paused';
    if (meta.status !== 'running') {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(meta.status)}; only a running run can be paused`,
      );
    }
    const n = await this.redis.hincrby(this.keys.meta(id), 'pauses', 1);
    await this.redis
      .multi()
      .hset(this.keys.meta(id), 'status', 'paused')
      .xadd(this.keys.events(id), '*', 'type', 'workflow.paused', 'at', String(Date.now()))
      .exec();
    await this.hold(id, n);
    this.logger.info('workflow paused', { execution_id: id });
    return 'paused';
  }

  /**
   * Records the decision on an approval task (the first decision wins) and wakes its job. The payload becomes the
   * task's output when approved; `payload.reason` is quoted in the error when rejected.
   */
  async decide(
    id: string,
    taskId: string,
    decision: 'approve' | 'reject',
    payload?: unknown,
    by?: string,
  ): Promise<ApprovalDecision> {
    const def = await this.store.definition(id).catch(() => {
      throw new NotFoundError('execution', id);
    });
    const task = def.tasks[taskId];
    if (!task) throw new NotFoundError('task', taskId);
    if (task.type !== 'approval')
      throw new OrchestratorError('CONFLICT', `task ${taskId} is a ${task.type} task, not an approval`);
    if (await this.redis.hexists(this.keys.finished(id), taskId)) {
      throw new OrchestratorError('CONFLICT', `task ${taskId} has already finished`);
    }
    const record: ApprovalDecision = { decision, at: new Date().toISOString() };
    if (payload !== undefined) record.payload = payload;
    if (by) record.by = by;
    if ((await this.redis.hsetnx(this.keys.tasks(id), approvalField(taskId), JSON.stringify(record))) === 0) {
      throw new OrchestratorError('CONFLICT', `task ${taskId} has already been decided`);
    }
    const event = [
      'type',
      decision === 'approve' ? 'task.approved' : 'task.rejected',
      'task',
      taskId,
      'at',
      String(Date.now()),
    ];
    if (by) event.push('by', by);
    await this.redis.xadd(this.keys.events(id), '*', ...event);
    const job = await Job.fromId(this.queues.tasks, `${id}.${taskId}`);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    return record;
  }

  /** A parked child of the workflow job: while it is pending, BullMQ will not run the workflow job. */
  async hold(id: string, n: number): Promise<void> {
    const parent = { id, queue: this.queues.workflows.qualifiedName };
    await this.queues.control
      .add(
        'hold',
        { e: id },
        { jobId: `${id}.hold.${n}`, delay: PARKED_MS, parent, removeOnComplete: true, removeOnFail: true },
      )
      .catch((error: Error) => this.logger.warn('could not add hold job', { execution_id: id, error: error.message }));
  }

  /** Resumes a paused run: releases what became ready while paused, un-parks queued tasks, then drops the hold. */
  async resume(id: string): Promise<ExecutionStatus> {
    const meta = await this.store.meta(id);
    if (!meta.status) throw new NotFoundError('execution', id);
    if (meta.status !== 'paused') {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(meta.status)}; only a paused run can be resumed`,
      );
    }
    await this.redis
      .multi()
      .hset(this.keys.meta(id), 'status', 'running')
      .xadd(this.keys.events(id), '*', 'type', 'workflow.resumed', 'at', String(Date.now()))
      .exec();
    const def = await this.store.definition(id);
    const ready = await this.frontier(def);
    const jobs = await Promise.all(ready.map((t) => this.queues.tasks.getJob(`${id}.${t}`)));
    await this.release(
      def,
      ready.filter((_, i) => !jobs[i]),
    );
    await this.promoteDelayed(this.queues.tasks, `${id}.`);
    await this.promoteDelayed(this.queues.control, `${id}.hold.`);
    this.logger.info('workflow resumed', { execution_id: id });
    return 'running';
  }

  /**
   * Decides a run's final status once no task job is pending, and ends it: `cancelling` -> cancelled, `timing_out`
   * -> timed_out, `failing` -> failed, otherwise failed when a task failed, else completed. A task whose job failed
   * without a completion record (it stalled too often: its worker kept dying) counts as failed.
   */
  async endRun(id: string): Promise<string> {
    const def = await this.store.definition(id);
    const meta = await this.store.meta(id);
    let fin = await this.redis.hgetall(this.keys.finished(id));
    const status = meta.status ?? '';
    if (status === 'running') {
      const missing = Object.keys(def.tasks).filter((t) => fin[t] === undefined);
      const jobs = await Promise.all(missing.map((t) => this.queues.tasks.getJob(`${id}.${t}`)));
      const lost = jobs.filter((j): j is Job => !!j && !!j.failedReason && !!j.finishedOn);
      for (const job of lost) {
        const task = (job.data as TaskJobData).t;
        const dependents = def.tasks[task]?.dependents ?? [];
        await this.scripts.completeTask(this.keys.taskKeys(id), [
          task,
          'failed',
          '',
          `task job lost: ${job.failedReason}`,
          Date.now(),
          job.attemptsMade,
          '0',
          ...dependents,
        ]);
      }
      if (lost.length > 0) fin = await this.redis.hgetall(this.keys.finished(id));
    }
    const unfinished = Object.keys(def.tasks).filter((t) => fin[t] === undefined);
    let final: ExecutionStatus;
    let mark = 'skipped';
    let error = meta.error ?? '';
    switch (status) {
      case 'cancelling':
        [final, mark] = ['cancelled', 'cancelled'];
        break;
      case 'timing_out':
        [final, mark] = ['timed_out', 'cancelled'];
        break;
      case 'failing':
        [final, mark] = ['failed', 'upstream_failed'];
        break;
      case 'running': {
        const failed = Object.keys(def.tasks).filter((t) => fin[t] === 'failed' && def.tasks[t]?.failsWorkflow);
        final = failed.length > 0 ? 'failed' : 'completed';
        if (failed.length > 0) error = `task${failed.length > 1 ? 's' : ''} failed: ${failed.join(', ')}`;
        break;
      }
      default:
        return status; // already ended
    }
    await this.finish(def, final, error, mark, unfinished);
    return final;
  }

  /**
   * Ends a run once (Lua-guarded, which also drops its deadline), frees its slot, starts whatever waited for one.
   * Returns whether this call ended it.
   */
  async finish(
    def: ExecutionDefinition,
    status: ExecutionStatus,
    error: string,
    unfinishedStatus: string,
    unfinished: string[],
  ): Promise<boolean> {
    const id = def.executionId;
    const ended = await this.scripts.finalize(
      [...this.keys.executionKeys(id), this.keys.deadlines()],
      [
        id,
        status,
        error,
        Date.now(),
        this.options.executionTtlMs,
        unfinishedStatus,
        this.finishedChannel(),
        ...unfinished,
      ],
    );
    if (ended !== 1) return false;
    await this.respond(id);
    if (def.parent) {
      // Wake the parent's waiting task: it reads this run's outcome.
      const waiting = await Job.fromId(this.queues.tasks, def.parent.jobId);
      if (waiting && (await waiting.isDelayed())) await waiting.promote().catch(() => undefined);
    }
    if (def.correlationId)
      await this.redis.pexpire(this.keys.correlation(def.correlationId), this.options.executionTtlMs);
    this.store.forget(id);
    this.logger.info('workflow finished', {
      execution_id: id,
      correlation_id: def.correlationId,
      status,
      error: error || undefined,
    });
    await this.admitWaiting(id);
    return true;
  }

  /**
   * Runs submitted over the message bus get their final message on the channel they named, exactly once: only the
   * call that ended the run gets here.
   */
  private async respond(id: string): Promise<void> {
    const channel = await this.redis.hget(this.keys.meta(id), 'respond_to');
    if (!channel) return;
    const record = await this.store.get(id);
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
    if (record.status === 'completed') message.outputs = outputs;
    else message.error = record.error ?? record.status;
    await this.redis.publish(channel, JSON.stringify(message));
  }

  /** Frees `id`'s slot (if any) and starts the runs that were waiting for one, oldest first. */
  async admitWaiting(id = ''): Promise<void> {
    const admitted = await this.scripts.releaseSlot(
      [this.keys.active(), this.keys.pending()],
      [id, this.options.maxConcurrentWorkflows],
    );
    for (const next of admitted) {
      const status = await this.redis.hget(this.keys.meta(next), 'status');
      if (status === 'pending') {
        const def = await this.store.definition(next);
        await this.start(def, await this.frontier(def));
      } else await this.admitWaiting(next); // it ended while it waited: give the slot on
    }
  }

  /** Pub/sub channel with one message per finished run: `{execution_id, status, correlation_id}`. */
  finishedChannel(): string {
    return `${this.prefix}:finished`;
  }

  /** One read of the engine's operational state, shared by `/status` and `/metrics`. */
  async operationalState(): Promise<OperationalState> {
    const [active, pending, counters, queues] = await Promise.all([
      this.redis.scard(this.keys.active()),
      this.redis.llen(this.keys.pending()),
      this.redis.hgetall(this.keys.counters()),
      Promise.all(
        Object.entries(this.queues).map(async ([name, queue]) => {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          return [name, Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0]))] as const;
        }),
      ),
    ]);
    return {
      active,
      pending,
      recovery: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)])),
      queues: Object.fromEntries(queues) as OperationalState['queues'],
    };
  }

  async get(id: string): Promise<ExecutionRecord> {
    const record = await this.store.get(id);
    if (!record) throw new NotFoundError('execution', id);
    return record;
  }

  /** Resolves with the record once the run has ended; for tools and tests. Uses the finished channel, no polling. */
  async waitForEnd(id: string, subscriber: Redis, timeoutMs: number): Promise<ExecutionRecord> {
    const channel = this.finishedChannel();
    let onMessage: ((ch: string, message: string) => void) | undefined;
    const ended = new Promise<void>((resolve) => {
      onMessage = (ch, message) => {
        if (ch === channel && (JSON.parse(message) as { execution_id: string }).execution_id === id) resolve();
      };
      subscriber.on('message', onMessage);
    });
    await subscriber.subscribe(channel);
    let timer: NodeJS.Timeout | undefined;
    try {
      const current = await this.store.meta(id);
      if (!TERMINAL_STATUSES.has(current.status ?? '')) {
        await Promise.race([
          ended,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new OrchestratorError('TIMEOUT', `execution ${id} did not end within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      }
      return await this.get(id);
    } finally {
      clearTimeout(timer);
      if (onMessage) subscriber.off('message', onMessage);
    }
  }

  /** Closes queues and the flow producer; the connection belongs to the caller. Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([
      this.flows.close(),
      this.queues.workflows.close(),
      this.queues.tasks.close(),
      this.queues.control.close(),
    ]).then(async () => {
      await this.bullConnection.quit().catch(() => this.bullConnection.disconnect());
    });
    return this.closing;
  }
}
