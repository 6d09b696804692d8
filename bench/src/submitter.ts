import { prepareInline } from '@orch/core';
import { WorkflowEngine } from '@orch/engine';
import { type RedisClient, RedisKeys } from '@orch/redis';
import type { BenchRedis } from './bench-redis';
import { PREFIX } from './processes';
import type { BenchWorkflow } from './shapes';

export interface SubmitterOptions {
  maxConcurrentWorkflows?: number;
  executionTtlMs?: number;
  /** The engine's partitions (ORCHESTRATOR_PARTITIONS of the processes it shares Redis with); default 1. */
  partitions?: number;
  cluster?: boolean;
  /** Replicas a submit waits for (REDIS_WAIT_REPLICAS); none by default. */
  replicaAcks?: { replicas: number; timeoutMs: number };
}

export interface Finished {
  status: string;
  /** When the bench received the message on the finished channel (epoch ms). */
  at: number;
}

/**
 * Submits workflows in the bench process through the engine's own entry point (what the API calls), and learns that
 * a run ended from the engine's finished channel: no polling, so waiting costs Redis nothing per run.
 */
export class Submitter {
  readonly engine: WorkflowEngine;
  /** The engine's key names, for cases that measure what Redis holds per run (the bench inspects; it writes none). */
  readonly keys = new RedisKeys(PREFIX);
  private readonly waiters = new Map<string, (f: Finished) => void>();
  /** Runs that ended before anyone waited for them (a fast run can end before `submit` returns). */
  private readonly early = new Map<string, Finished>();
  private listener?: (id: string, f: Finished) => void;

  private constructor(
    /** The engine's connection, also used by cases that read a run's keys. */
    readonly connection: RedisClient,
    private readonly subscriber: RedisClient,
    options: SubmitterOptions & { maxConcurrentWorkflows: number; executionTtlMs: number },
  ) {
    this.engine = new WorkflowEngine({
      connection,
      prefix: PREFIX,
      partitions: options.partitions,
      cluster: options.cluster,
      replicaAcks: options.replicaAcks,
      maxConcurrentWorkflows: options.maxConcurrentWorkflows,
      executionTtlMs: options.executionTtlMs,
      defaultWorkflowTimeoutMs: 600_000,
    });
  }

  static async create(redis: BenchRedis, options: SubmitterOptions = {}): Promise<Submitter> {
    return Submitter.on(redis.connect('bench-submit'), await redis.subscriber('bench-finished'), options);
  }

  /** On clients of any topology (a Cluster client with `cluster: true`); `subscriber` only subscribes. */
  static async on(
    connection: RedisClient,
    subscriber: RedisClient,
    options: SubmitterOptions = {},
  ): Promise<Submitter> {
    const submitter = new Submitter(connection, subscriber, {
      ...options,
      maxConcurrentWorkflows: options.maxConcurrentWorkflows ?? 1_000_000,
      executionTtlMs: options.executionTtlMs ?? 3_600_000,
    });
    const channel = submitter.engine.finishedChannel();
    subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      const at = Date.now();
      const { execution_id: id, status } = JSON.parse(message) as { execution_id: string; status: string };
      const finished = { status, at };
      submitter.listener?.(id, finished);
      const waiter = submitter.waiters.get(id);
      if (waiter) {
        submitter.waiters.delete(id);
        waiter(finished);
      } else if (!submitter.listener) submitter.early.set(id, finished);
    });
    await subscriber.subscribe(channel);
    return submitter;
  }

  /** Validates, compiles and starts a run, as `POST /api/v1/workflows` does. */
  async submit(workflow: BenchWorkflow | object, executionId?: string): Promise<string> {
    const result = await this.engine.submit(prepareInline(workflow, {}), executionId ? { executionId } : {});
    return result.executionId;
  }

  /** Resolves when the run's message arrives on the finished channel. */
  finished(id: string): Promise<Finished> {
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  /**
   * Submits and waits; `ms` spans submit (validation included) to the finished message, `submitMs` the submit call
   * alone (validation, compilation, writing the definition, adding the first jobs).
   */
  async run(workflow: BenchWorkflow | object): Promise<{ id: string; ms: number; submitMs: number; status: string }> {
    const start = Date.now();
    const id = await this.submit(workflow);
    const submitMs = Date.now() - start;
    const end = await this.finished(id);
    return { id, ms: end.at - start, submitMs, status: end.status };
  }

  /** Sees every finished message instead of buffering them, for runs nobody waits on one by one. */
  onEveryFinished(listener: ((id: string, f: Finished) => void) | undefined): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}
