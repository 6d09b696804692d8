import type { CompiledTask, PreparedWorkflow, WorkflowDefinition } from '@orch/core';
import type { RunTrace } from '@orch/tracing';

export { type BackoffSpec, backoffDelay, type CompiledTask } from '@orch/core';

/**
 * The idempotency key a run was created under, in one of separate spaces: a client's correlation id in the space of
 * the API key name that sent it (`submitter`, none for an open API and the bus), with a fingerprint of the request so
 * a reuse with another body is told apart; or an id the engine made for a sub-workflow (`child`) or a schedule firing
 * (`schedule`), which no request can claim.
 */
export type RunClaim =
  | { space: 'client'; id: string; submitter?: string; fingerprint: string }
  | { space: 'child' | 'schedule'; id: string };

/** The immutable form of one execution: the workflow compiled at validation, stored once and cached by workers. */
export interface ExecutionDefinition {
  executionId: string;
  workflow: WorkflowDefinition;
  variables: Record<string, unknown>;
  tasks: Record<string, CompiledTask>;
  roots: string[];
  failFast: boolean;
  timeoutMs: number;
  template?: { id: string; version?: string };
  /** The id the run was started under (its claim's id), shown in its record and log lines. */
  correlationId?: string;
  claim?: RunClaim;
  /** The request that created the run (the API's X-Request-Id, or the id it made up), for log correlation. */
  requestId?: string;
  createdAt: number;
  /** 0 for a top-level run; a sub-workflow is one deeper than the run that started it. */
  depth?: number;
  /** Set on a sub-workflow: the task (and its job) that waits for it. */
  parent?: { executionId: string; taskId: string; jobId: string; queue?: string };
  /** Exit handlers (`on_exit`) by id, and those without dependencies: added once the run's tasks have ended. */
  exitTasks?: Record<string, CompiledTask>;
  exitRoots?: string[];
  /** At most this many tasks and parallel items running at once (the run's gate, `*`). */
  maxConcurrency?: number;
  /** Tasks the submission's `targets` left out, recorded `skipped` when the run is created. */
  untargeted?: string[];
  /** The run's span when the submitter traces: its tasks' spans are its children, it is recorded at the end. */
  trace?: RunTrace;
}

/** An execution of a prepared (validated and compiled) workflow. */
export function compileExecution(
  executionId: string,
  prepared: PreparedWorkflow,
  options: { defaultTimeoutMs: number; claim?: RunClaim; now?: number },
): ExecutionDefinition {
  const { compiled } = prepared;
  return {
    executionId,
    workflow: prepared.workflow,
    variables: prepared.variables,
    tasks: compiled.tasks,
    roots: compiled.roots,
    failFast: compiled.failFast,
    timeoutMs: compiled.timeoutMs ?? options.defaultTimeoutMs,
    template: prepared.template,
    ...(options.claim ? { correlationId: options.claim.id, claim: options.claim } : {}),
    createdAt: options.now ?? Date.now(),
    ...(compiled.exitTasks ? { exitTasks: compiled.exitTasks, exitRoots: compiled.exitRoots ?? [] } : {}),
    ...(compiled.maxConcurrency ? { maxConcurrency: compiled.maxConcurrency } : {}),
    ...(compiled.untargeted?.length ? { untargeted: compiled.untargeted } : {}),
  };
}

const taskCounts = new WeakMap<ExecutionDefinition, number>();

/** How many tasks the run has (exit handlers aside); counted once per definition object. */
export function taskCountOf(def: ExecutionDefinition): number {
  const known = taskCounts.get(def);
  if (known !== undefined) return known;
  const count = Object.keys(def.tasks).length;
  taskCounts.set(def, count);
  return count;
}

/** A task or exit handler of the run by id; undefined for neither. */
export function taskOf(def: ExecutionDefinition, id: string): CompiledTask | undefined {
  if (Object.hasOwn(def.tasks, id)) return def.tasks[id];
  return def.exitTasks && Object.hasOwn(def.exitTasks, id) ? def.exitTasks[id] : undefined;
}

/** The task queue (`queue:`) of a task of the run; undefined for the default. */
export function queueOf(def: ExecutionDefinition, taskId: string): string | undefined {
  return taskOf(def, taskId)?.queue;
}

/** Every task queue the run's tasks use, the default (undefined) first. */
export function queuesOf(def: ExecutionDefinition | undefined): (string | undefined)[] {
  const named = new Set<string>();
  for (const t of [...Object.values(def?.tasks ?? {}), ...Object.values(def?.exitTasks ?? {})])
    if (t.queue) named.add(t.queue);
  return [undefined, ...named];
}

/** The run's task ids, in declaration order. */
export function taskIds(def: ExecutionDefinition): string[] {
  return Object.keys(def.tasks);
}
