import { EventEmitter } from 'node:events';
import { prepareInline, type TemplateDefinition, type WorkflowDefinition } from '@orch/core';
import { NotFoundError, OrchestratorError } from '@orch/errors';
import { createRedisConnection } from '@orch/redis';
import { type ExecutionEvent, type ExecutionRecord, isFinalStatus } from '@orch/run-model';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskHandlers } from './control-flow';
import type { EngineContext } from './engine-context';
import { EngineWorker } from './engine-worker';
import type { RunKernel } from './run-kernel';
import { PermanentTaskError, type TaskHandler } from './task-handler';
import { internalsOf, WorkflowEngine } from './workflow-engine';

/** One call of the probe handler, as the test sees it: an independent witness of what ran and when. */
export interface ProbeCall {
  task: string;
  attempt: number;
  start: number;
  end?: number;
  outcome?: 'ok' | 'error' | 'aborted';
}

/**
 * The `data` handler of engine tests. `parameters.input` steers it: `sleep_ms` (honours the abort signal; with
 * `slow_times`, only on the first n attempts), `fail_times` (throws on the first n attempts, with `cause` as the
 * error's cause), `permanent` (throws PermanentTaskError), `value` (the output), otherwise the output is 1 + the sum
 * of `inputs`; `log` lines are written to the attempt's task log first.
 */
export function probeHandler(calls: ProbeCall[], started = new EventEmitter()): TaskHandler {
  return async (parameters, context) => {
    const input = (parameters.input ?? {}) as {
      sleep_ms?: number;
      slow_times?: number;
      fail_times?: number;
      cause?: string;
      permanent?: boolean;
      value?: unknown;
      inputs?: number[];
      log?: string[];
    };
    for (const line of input.log ?? []) context.log(line);
    const call: ProbeCall = { task: context.taskId, attempt: context.attempt, start: Date.now() };
    calls.push(call);
    started.emit('call', call);
    try {
      if (input.sleep_ms && context.attempt <= (input.slow_times ?? Number.POSITIVE_INFINITY)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, input.sleep_ms);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          });
        });
      }
      if (input.permanent) throw new PermanentTaskError(`task ${context.taskId} refuses`);
      if (context.attempt <= (input.fail_times ?? 0)) {
        const cause = input.cause ? { cause: new Error(input.cause) } : undefined;
        throw new Error(`flaky failure ${context.attempt}`, cause);
      }
      call.outcome = 'ok';
      if (input.value !== undefined) return input.value;
      return 1 + (input.inputs ?? []).reduce((a, b) => a + b, 0);
    } catch (error) {
      call.outcome = context.signal.aborted ? 'aborted' : 'error';
      throw error;
    } finally {
      call.end = Date.now();
    }
  };
}

export interface Harness {
  server: RedisServer;
  engine: WorkflowEngine;
  /** The engine's insides, for tests that set up or inspect what the facade does not show. */
  ctx: EngineContext;
  kernel: RunKernel;
  connection: Redis;
  calls: ProbeCall[];
  /** Resolves when the probe handler starts `task` (or already has). */
  started(task: string, timeoutMs?: number): Promise<void>;
  startWorker(options?: {
    concurrency?: number;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    templates?: Record<string, TemplateDefinition>;
    /** Handlers in place of the probe's (the real exec handler, say). */
    handlers?: Partial<TaskHandlers>;
    queues?: string[];
    name?: string;
    heartbeatMs?: number;
    /** The partitions it serves (default all). */
    partitions?: number[];
    /** Inline continuation (default on, as in the worker app). */
    inlineContinuation?: boolean;
  }): Promise<EngineWorker>;
  submit(workflow: unknown, variables?: Record<string, unknown>, correlationId?: string): Promise<string>;
  run(workflow: unknown, variables?: Record<string, unknown>, timeoutMs?: number): Promise<ExecutionRecord>;
  waitForEnd(id: string, timeoutMs?: number): Promise<ExecutionRecord>;
  /** Resolves once the task job is in BullMQ's delayed set (parked or waiting out a delay). */
  delayed(jobId: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the first event of the run that matches, reading its stream with XREAD BLOCK. */
  waitForEvent(id: string, match: (event: ExecutionEvent) => boolean, timeoutMs?: number): Promise<ExecutionEvent>;
  stop(): Promise<void>;
}

export async function startHarness(
  options: {
    maxConcurrentWorkflows?: number;
    defaultWorkflowTimeoutMs?: number;
    executionTtlMs?: number;
    maxSubworkflowDepth?: number;
    exitGraceMs?: number;
    taskLogMaxBytes?: number;
    startGraceMs?: number;
    /** Runs spread over this many partitions (tagged keys), as on a cluster. */
    partitions?: number;
  } = {},
): Promise<Harness> {
  const server = await startRedisServer();
  const settings = { host: server.host, port: server.port };
  const connection = createRedisConnection(settings, 'worker');
  const engine = new WorkflowEngine({
    connection,
    prefix: 'test',
    maxConcurrentWorkflows: options.maxConcurrentWorkflows ?? 100,
    executionTtlMs: options.executionTtlMs ?? 600_000,
    defaultWorkflowTimeoutMs: options.defaultWorkflowTimeoutMs ?? 120_000,
    maxSubworkflowDepth: options.maxSubworkflowDepth,
    exitGraceMs: options.exitGraceMs,
    taskLogMaxBytes: options.taskLogMaxBytes,
    startGraceMs: options.startGraceMs,
    partitions: options.partitions,
  });
  const calls: ProbeCall[] = [];
  const starts = new EventEmitter();
  const probe = probeHandler(calls, starts);
  const handlers: TaskHandlers = { data: probe, ai: probe, exec: probe, http: probe };
  const workers: EngineWorker[] = [];
  const clients: Redis[] = [connection];
  const fresh = () => {
    const client = createRedisConnection(settings, 'worker');
    clients.push(client);
    return client;
  };
  const waiter = fresh();
  // Every job BullMQ moves to the delayed set, from the start, so a test never misses one that was quick.
  const queueEvents = new QueueEvents('tasks', {
    connection: fresh(),
    prefix: internalsOf(engine).ctx.queues.workerConnection.prefix,
  });
  await queueEvents.waitUntilReady();
  const delayedIds = new Set<string>();
  const delayedEvents = new EventEmitter();
  queueEvents.on('delayed', ({ jobId }) => {
    delayedIds.add(jobId);
    delayedEvents.emit('delayed', jobId);
  });
  const harness: Harness = {
    server,
    engine,
    ...internalsOf(engine),
    connection,
    calls,
    async started(task, timeoutMs = 10_000) {
      if (calls.some((c) => c.task === task)) return;
      // One listener for the whole wait: calls that start in the same tick are all seen.
      let listener: ((call: ProbeCall) => void) | undefined;
      const seen = new Promise<void>((resolve) => {
        listener = (call) => {
          if (call.task === task) resolve();
        };
        starts.on('call', listener);
      });
      try {
        await withDeadline(seen, timeoutMs, `task ${task} to start`).catch(() => {
          throw new Error(`task ${task} did not start within ${timeoutMs} ms`);
        });
      } finally {
        starts.off('call', listener as never);
      }
    },
    async startWorker(workerOptions = {}) {
      const worker = new EngineWorker({
        engine,
        handlers: { ...handlers, ...workerOptions.handlers },
        subscriber: fresh(),
        concurrency: workerOptions.concurrency ?? 50,
        lockDurationMs: workerOptions.lockDurationMs,
        stalledIntervalMs: workerOptions.stalledIntervalMs,
        queues: workerOptions.queues,
        name: workerOptions.name,
        partitions: workerOptions.partitions,
        heartbeatMs: workerOptions.heartbeatMs,
        inlineContinuation: workerOptions.inlineContinuation,
        templates: (reference) => {
          const template = workerOptions.templates?.[reference];
          if (!template) throw new NotFoundError('template', reference);
          return template;
        },
      });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    async submit(workflow, variables = {}, correlationId) {
      const prepared = prepareInline(workflow, variables);
      const claim = correlationId ? { space: 'client' as const, id: correlationId, fingerprint: '' } : undefined;
      return (await engine.submit(prepared, { claim })).executionId;
    },
    async run(workflow, variables = {}, timeoutMs = 30_000) {
      return harness.waitForEnd(await harness.submit(workflow, variables), timeoutMs);
    },
    waitForEnd(id, timeoutMs = 30_000) {
      return waitForEnd(engine, id, waiter, timeoutMs);
    },
    async delayed(jobId, timeoutMs = 10_000) {
      if (delayedIds.has(jobId)) return;
      const seen = new Promise<void>((resolve) => {
        const onDelayed = (id: string) => {
          if (id === jobId) {
            delayedEvents.off('delayed', onDelayed);
            resolve();
          }
        };
        delayedEvents.on('delayed', onDelayed);
      });
      await withDeadline(seen, timeoutMs, `job ${jobId} to be delayed`);
    },
    async waitForEvent(id, match, timeoutMs = 10_000) {
      const reader = fresh();
      const deadline = Date.now() + timeoutMs;
      let last = '0';
      try {
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no matching event of ${id} within ${timeoutMs} ms`);
          const events = await engine.waitForEvents(reader, id, last, { count: 100, blockMs: left });
          for (const event of events ?? []) {
            last = event.id;
            if (match(event)) return event;
          }
        }
      } finally {
        reader.disconnect();
      }
    },
    async stop() {
      await queueEvents.close();
      await Promise.all(workers.map((w) => w.close()));
      await engine.close();
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await server.stop();
    },
  };
  return harness;
}

/**
 * Resolves with the record once the run has ended; for tools and tests. Uses the finished channel, no polling.
 * `subscriber` is a connection the caller gives over to the subscription.
 */
export async function waitForEnd(
  engine: WorkflowEngine,
  id: string,
  subscriber: Redis,
  timeoutMs: number,
): Promise<ExecutionRecord> {
  const channel = engine.finishedChannel();
  let onMessage: ((ch: string, message: string) => void) | undefined;
  let onReady: (() => void) | undefined;
  const ended = new Promise<void>((resolve) => {
    onMessage = (ch, message) => {
      if (ch === channel && (JSON.parse(message) as { execution_id: string }).execution_id === id) resolve();
    };
    subscriber.on('message', onMessage);
    // A message published while the subscriber was reconnecting (Redis restarted) is lost: look again once back.
    onReady = () => {
      engine.status(id).then(
        (status) => isFinalStatus(status) && resolve(),
        () => undefined,
      );
    };
    subscriber.on('ready', onReady);
  });
  await subscriber.subscribe(channel);
  try {
    if (!isFinalStatus(await engine.status(id))) {
      await withDeadline(ended, timeoutMs, `execution ${id} to end`).catch(() => {
        throw new OrchestratorError('TIMEOUT', `execution ${id} did not end within ${timeoutMs} ms`);
      });
    }
    return await engine.get(id);
  } finally {
    if (onMessage) subscriber.off('message', onMessage);
    if (onReady) subscriber.off('ready', onReady);
  }
}

/** Builders for test workflows. */
export const wf = (tasks: unknown[], extra: Record<string, unknown> = {}): WorkflowDefinition =>
  ({ id: 'test', tasks, ...extra }) as WorkflowDefinition;

/** A probe task: output 1 + sum of its dependencies' outputs, unless `input` says otherwise. */
export function probe(
  id: string,
  deps: string[] = [],
  input: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    type: 'data',
    depends_on: deps,
    parameters: { operation: 'search', input: { inputs: deps.map((d) => `\${${d}.output}`), ...input } },
    ...extra,
  };
}

/** Tasks by id from a record. */
export const byId = (record: ExecutionRecord) => Object.fromEntries(record.tasks.map((t) => [t.id, t]));

export { type EngineInternals, internalsOf } from './workflow-engine';
