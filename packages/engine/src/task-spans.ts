import {
  type Attributes,
  type Context,
  contextOf,
  endSpan,
  runContext,
  type Span,
  SpanKind,
  trace,
  tracer,
} from '@orch/tracing';
import { type Job, WaitingChildrenError } from 'bullmq';
import type { EngineContext } from './engine-context';
import { type BackoffSpec, backoffDelay, taskOf } from './execution-definition';
import type { SubTaskJobData, TaskJobData } from './task-job';
import type { TaskOutcome } from './task-observer';

/** A job run's span and the context its work runs in (where handlers, service calls and sub-runs find it). */
export interface TracedJob {
  span: Span;
  context: Context;
}

/** Outcomes that end a span as an error. */
const FAILED: ReadonlySet<TaskOutcome> = new Set(['failed', 'retrying']);

/**
 * The spans of task jobs (tracing on only): one per run of a job on a worker, a child of the run's span (or, for a
 * parallel item, of its parallel task's), with the attempt's ids as attributes. The first run's queue time is its
 * own span before it; a retry, a park (delay, approval, sub-workflow, items, a concurrency gate, a paused run) and
 * a wake-up are span events, so the waits show as events and gaps in the trace.
 */
export class TaskSpans {
  constructor(
    private readonly ctx: EngineContext,
    private readonly worker: string,
  ) {}

  async start(job: Job): Promise<TracedJob> {
    const data = job.data as TaskJobData & Partial<SubTaskJobData>;
    const def = await this.ctx.store.definition(data.e).catch(() => undefined);
    const sub = job.name === 'subtask';
    const parent = sub ? contextOf(data.tc, runContext(def?.trace)) : runContext(def?.trace);
    const taskId = sub ? `${data.t}[${data.i}]` : data.t;
    const attributes: Attributes = {
      'orch.execution_id': data.e,
      'orch.task_id': taskId,
      'orch.task.type': (sub ? data.type : def && taskOf(def, data.t)?.type) ?? 'unknown',
      'orch.attempt': job.attemptsMade + 1,
      'orch.queue': job.queueName,
      'orch.worker': this.worker,
      'orch.job_id': job.id ?? '',
    };
    if (def?.workflow.id) attributes['orch.workflow_id'] = def.workflow.id;
    const started = job.processedOn ?? Date.now();
    // attemptsStarted counts every move to active: 1 is the job's first run, the only one whose wait is queueing.
    if (job.attemptsStarted <= 1) {
      const queued = job.timestamp + (job.opts.delay ?? 0);
      tracer()
        .startSpan(
          `queued ${taskId}`,
          { kind: SpanKind.INTERNAL, startTime: Math.min(queued, started), attributes },
          parent,
        )
        .end(started);
    }
    const span = tracer().startSpan(
      `task ${taskId}`,
      { kind: SpanKind.CONSUMER, startTime: started, attributes },
      parent,
    );
    if (job.attemptsStarted > 1) span.addEvent('orch.resumed', { 'orch.job.runs': job.attemptsStarted });
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Ends the span with how the job run ended; `error` is what it threw. */
  end(traced: TracedJob, job: Job, outcome: TaskOutcome, error: unknown): void {
    const { span } = traced;
    span.setAttribute('orch.task.outcome', outcome);
    if (outcome === 'retrying') {
      const spec = (job.data as { bp?: BackoffSpec }).bp;
      span.addEvent('orch.retry', { 'orch.backoff_ms': spec ? backoffDelay(spec, job.attemptsMade + 1) : 0 });
    }
    // Parked: it waits in BullMQ's delayed set (delay, approval, gate, paused run) or for its children (items, a sub-run).
    if (outcome === 'parked')
      span.addEvent('orch.wait', { 'orch.wait.on': error instanceof WaitingChildrenError ? 'children' : 'delayed' });
    const message = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
    if (message && FAILED.has(outcome)) span.recordException(error instanceof Error ? error : message);
    endSpan(span, FAILED.has(outcome) ? (message ?? outcome) : undefined);
  }
}
