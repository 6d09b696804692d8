import type { Logger } from '@orch/logger';
import { QUEUES, type RedisClient, taskQueueName } from '@orch/redis';
import { FlowProducer, Job, Queue, type QueueOptions } from 'bullmq';
import { QUEUE_STATES, type QueueCounts } from './operational-state';

/**
 * One partition's BullMQ queues and flow producer, created here and nowhere else, on the engine's BullMQ client
 * (shared by the partitions, closed by the engine). Each partition has its own set: its prefix carries the
 * partition's hash tag, so a run's flow (workflow job, task jobs, holds) stays in one slot.
 */
export class EngineQueues {
  readonly workflows: Queue;
  readonly tasks: Queue;
  readonly control: Queue;
  readonly flows: FlowProducer;
  /** What a BullMQ Worker of these queues is constructed with. */
  readonly workerConnection: { connection: RedisClient; prefix: string };
  private closing?: Promise<void>;
  /** The task queues of named pools (`queue: gpu` is `tasks-gpu`), made when first used. */
  private readonly pools = new Map<string, Queue>();
  private readonly queueOptions: QueueOptions;
  private readonly quiet: (error: Error) => void;

  constructor(
    /** BullMQ's own client: a duplicate of the engine's (see `createEngineContexts`). */
    connection: RedisClient,
    /** The engine's client, for reading BullMQ's delayed sets without BullMQ's script-laden pipelines. */
    private readonly reader: RedisClient,
    readonly prefix: string,
    logger: Logger,
  ) {
    const shared = { connection, prefix };
    this.workerConnection = shared;
    // BullMQ's own event streams are capped (default 10,000 entries, ~700 KB per queue); the engine reads none of
    // them (runs have their own streams), so a short tail for dashboards is enough.
    const queueOptions = { ...shared, streams: { events: { maxLen: 1000 } } };
    this.queueOptions = queueOptions;
    this.workflows = new Queue(QUEUES.workflows, queueOptions);
    this.tasks = new Queue(QUEUES.tasks, queueOptions);
    this.control = new Queue(QUEUES.control, queueOptions);
    this.flows = new FlowProducer(shared);
    // The connection's owner logs its errors; without a listener BullMQ would print each one to the console.
    const quiet = (error: Error) => logger.debug('queue connection error', { error: error.message });
    this.quiet = quiet;
    for (const queue of this.all()) queue.on('error', quiet);
    this.flows.on('error', quiet);
  }

  all(): Queue[] {
    return [this.workflows, this.tasks, this.control, ...this.pools.values()];
  }

  /** The default task queue and every named one this process has used. */
  taskQueues(): Queue[] {
    return [this.tasks, ...this.pools.values()];
  }

  /** The BullMQ queue of a task queue (`queue:`); `default` (or none) is `tasks`. */
  taskQueue(queue?: string): Queue {
    const name = taskQueueName(queue);
    if (name === QUEUES.tasks) return this.tasks;
    let pool = this.pools.get(name);
    if (!pool) {
      pool = new Queue(name, this.queueOptions);
      pool.on('error', this.quiet);
      this.pools.set(name, pool);
    }
    return pool;
  }

  /** The parent reference of a child of the run's workflow job. */
  workflowParent(executionId: string): { id: string; queue: string } {
    return { id: executionId, queue: this.workflows.qualifiedName };
  }

  /**
   * Removes an ended run's workflow job, which would otherwise be fetched and finished only to find the run ended.
   * Its children keep their parent reference: BullMQ's `moveToFinished` skips a parent that is gone. 0: it is
   * active (it runs now), so it stays.
   */
  dropWorkflowJob(executionId: string): Promise<number> {
    return this.workflows.remove(executionId, { removeChildren: false });
  }

  /** Whether each run's workflow job exists (in any state), in one pipeline. */
  async workflowJobsExist(executionIds: readonly string[]): Promise<boolean[]> {
    const pipeline = this.reader.pipeline();
    for (const id of executionIds) pipeline.exists(this.workflows.toKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, count]) => {
      if (error) throw error;
      return count === 1;
    });
  }

  taskJob(jobId: string, queue?: string): Promise<Job | undefined> {
    return this.taskQueue(queue).getJob(jobId);
  }

  /** Promotes a delayed task job (a parked wait) so it runs now; a job that moved on meanwhile is left alone. */
  async wake(jobId: string, queue?: string): Promise<void> {
    const job = await Job.fromId(this.taskQueue(queue), jobId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /** Promotes the delayed jobs whose ids start with `prefix`: they run now instead of when their timer fires. */
  async promoteDelayed(queue: Queue, prefix: string): Promise<void> {
    const delayed = await this.reader.zrange(queue.toKey('delayed'), 0, -1);
    for (const jobId of delayed.filter((j) => j.startsWith(prefix))) {
      const job = await Job.fromId(queue, jobId);
      await job?.promote().catch(() => undefined); // it may have moved on by itself meanwhile
    }
  }

  /**
   * Jobs waiting for a worker (waiting and prioritized) in the tasks queue and in the workflows queue (runs whose
   * tasks are done, waiting to be ended): four reads, cheap enough to sample often.
   */
  async waitingJobs(): Promise<number> {
    const counts = await Promise.all(
      [this.tasks, this.workflows].flatMap((queue) => [
        this.reader.llen(queue.toKey('wait')),
        this.reader.zcard(queue.toKey('prioritized')),
      ]),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Job counts per queue and state, for `/status` and `/metrics`. */
  async counts(): Promise<QueueCounts> {
    const entries = await Promise.all(
      (['workflows', 'tasks', 'control'] as const).map(async (name) => {
        const counts = await this[name].getJobCounts(...QUEUE_STATES);
        return [name, Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0]))] as const;
      }),
    );
    return Object.fromEntries(entries) as QueueCounts;
  }

  /** Closes the queues and the flow producer (not their client, which the engine closes). Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([this.flows.close(), ...this.all().map((q) => q.close())]).then(() => {});
    return this.closing;
  }
}
