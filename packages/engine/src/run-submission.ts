import type { PreparedWorkflow } from '@orch/core';
import { NotFoundError, OrchestratorError } from '@orch/errors';
import { type ExecutionStatus, isFinalStatus, publicStatus } from '@orch/run-model';
import { newRunTrace, traceIdOf } from '@orch/tracing';
import type { EngineContext } from './engine-context';
import { compileExecution, type ExecutionDefinition, type RunClaim, taskIds } from './execution-definition';

export interface SubmitOptions {
  /**
   * Makes the submission idempotent: while a run created under the same claim (its space, submitter and id) is
   * kept, its id is answered instead of a new run. A client claim with another fingerprint is a CONFLICT.
   */
  claim?: RunClaim;
  /** For a sub-workflow: the waiting task, and the depth of the run it belongs to plus one. */
  parent?: { executionId: string; taskId: string; jobId: string; queue?: string; depth: number };
  /** Pub/sub channel that gets the run's final message (the message bus sets `workflow-responses`). */
  respondTo?: string;
  /** The API key name that submitted the run; shown in its record as `submitted_by`. */
  submittedBy?: string;
  /** Kept with the run (`request_id`) and put on its tasks' log lines; a sub-workflow inherits its parent's. */
  requestId?: string;
  /**
   * The new run's id, made by the caller (a random UUID) so that it can listen for the run's end before the run can
   * end (submit and wait). Default: a random UUID. Never take it from a request.
   */
  executionId?: string;
  /**
   * The submitter waits for the run's end (submit and wait): its finished message then carries the final record (up
   * to FINISHED_RECORD_CAP), so the waiting API answers without reading it.
   */
  awaited?: boolean;
}

export interface SubmitResult {
  executionId: string;
  status: ExecutionStatus;
  /** False when the claim was already held: `executionId` is the existing run. */
  created: boolean;
}

export interface RetryResult extends SubmitResult {
  retried_from: string;
  reused: string[];
}

/** A run written and admitted, or queued for a slot: `first` are the tasks to add as jobs once it runs. */
export type Launch = (def: ExecutionDefinition, first: string[]) => Promise<void>;

/**
 * Creates runs: compiles (unless given the compiled form), claims the idempotency key, writes and admits the run in
 * one step, and launches it when admitted.
 */
export class RunSubmission {
  constructor(
    private readonly ctx: EngineContext,
    private readonly launch: Launch,
  ) {}

  /**
   * With a claim already held within the TTL, returns the existing run instead: the claim and the run are written by
   * one script, so that holds across API replicas racing on the same id, and no crash leaves a claim without a run.
   */
  submit(prepared: PreparedWorkflow, options: SubmitOptions = {}): Promise<SubmitResult> {
    const { partition, partitions } = this.ctx;
    const executionId = options.executionId ?? partitions.newId(partition);
    if (partitions.ofId(executionId) !== partition)
      throw new Error(`execution id ${executionId} is not of partition ${partition}`);
    const def = compileExecution(executionId, prepared, {
      defaultTimeoutMs: this.ctx.limits.defaultWorkflowTimeoutMs,
      claim: options.claim,
    });
    return this.create(def, options);
  }

  /**
   * A new run of a finished run's workflow that reuses the checkpointed outputs of its completed tasks and runs the
   * rest: the failed, cancelled and never-run tasks.
   */
  async retry(id: string, options: Pick<SubmitOptions, 'submittedBy' | 'requestId'> = {}): Promise<RetryResult> {
    const { store } = this.ctx;
    const [def, fin, status] = await Promise.all([
      store.definition(id).catch(() => {
        throw new NotFoundError('execution', id);
      }),
      store.finished(id),
      store.status(id),
    ]);
    if (!isFinalStatus(status)) {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(status)}; only a finished run can be retried`,
      );
    }
    const outputs = await store.outputsOf(
      id,
      taskIds(def).filter((t) => fin.get(t) === 'completed'),
    );
    if (outputs.size + (def.untargeted?.length ?? 0) === taskIds(def).length) {
      throw new OrchestratorError('CONFLICT', `execution ${id} completed every task; there is nothing to retry`);
    }
    const fresh: ExecutionDefinition = {
      ...def,
      executionId: this.ctx.partitions.newId(this.ctx.partition),
      correlationId: undefined,
      claim: undefined,
      requestId: undefined,
      createdAt: Date.now(),
    };
    const result = await this.create(
      fresh,
      { submittedBy: options.submittedBy, requestId: options.requestId },
      { retriedFrom: id, seed: outputs },
    );
    return { ...result, retried_from: id, reused: [...outputs.keys()] };
  }

  private async create(
    def: ExecutionDefinition,
    options: SubmitOptions,
    from: { retriedFrom?: string; seed?: Map<string, string> } = {},
  ): Promise<SubmitResult> {
    const { store, limits } = this.ctx;
    const executionId = def.executionId;
    if (options.parent) {
      const { depth, ...parent } = options.parent;
      def.parent = parent;
      def.depth = depth;
    }
    const extra: Record<string, string> = {};
    if (options.respondTo) extra.respond_to = options.respondTo;
    if (options.awaited) extra.awaited = '1';
    if (options.parent) {
      extra.parent_execution_id = options.parent.executionId;
      extra.parent_task_id = options.parent.taskId;
    }
    if (from.retriedFrom) extra.retried_from = from.retriedFrom;
    if (options.submittedBy) extra.submitted_by = options.submittedBy;
    if (options.requestId) {
      def.requestId = options.requestId;
      extra.request_id = options.requestId;
    }
    // The active span (the submit request's, a bus message's, a schedule firing's, a parent task's) is the run's parent.
    def.trace = newRunTrace();
    if (def.trace) extra.trace_id = traceIdOf(def.trace);
    const seed = from.seed ?? new Map<string, string>();
    const created = await store.create({
      def,
      extra,
      seed,
      limit: limits.maxConcurrentWorkflows,
      claimTtlMs: def.timeoutMs + limits.executionTtlMs,
      startGraceMs: limits.startGraceMs,
    });
    if (!created.created) return this.existing(def, created.executionId, created.fingerprint);
    if (created.replicated === false) {
      // Still acknowledged: refusing would make the client retry a run that exists; the log says the risk.
      this.ctx.logger.warn('run acknowledged before a replica held it', {
        execution_id: executionId,
        replicas: limits.replicaAcks?.replicas,
        timeout_ms: limits.replicaAcks?.timeoutMs,
      });
    }
    if (!created.admitted) return { executionId, status: 'pending', created: true };
    await this.launch(def, seed.size > 0 ? await store.readyTasks(def) : def.roots);
    return { executionId, status: 'running', created: true };
  }

  /** The run that holds the claim; a client's claim made with another request is a conflict that names it. */
  private async existing(def: ExecutionDefinition, executionId: string, fingerprint: string): Promise<SubmitResult> {
    const claim = def.claim as RunClaim;
    if (claim.space === 'client' && fingerprint !== claim.fingerprint) {
      throw new OrchestratorError(
        'CONFLICT',
        `correlation id '${claim.id}' was already used for execution ${executionId} with a different request ` +
          'body; send the same body to get that run, or use a new correlation id',
        { details: [{ pointer: '/correlation_id', message: `already used for execution ${executionId}` }] },
      );
    }
    return {
      executionId,
      status: publicStatus((await this.ctx.store.status(executionId)) ?? 'pending'),
      created: false,
    };
  }
}
