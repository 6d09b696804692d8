import type { CompiledTask, PreparedWorkflow, WorkflowDefinition } from '@orch/core';

export { type BackoffSpec, backoffDelay, type CompiledTask } from '@orch/core';

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
  correlationId?: string;
  /** The request that created the run (the API's X-Request-Id, or the id it made up), for log correlation. */
  requestId?: string;
  createdAt: number;
  /** 0 for a top-level run; a sub-workflow is one deeper than the run that started it. */
  depth?: number;
  /** Set on a sub-workflow: the task (and its job) that waits for it. */
  parent?: { executionId: string; taskId: string; jobId: string };
}

/** An execution of a prepared (validated and compiled) workflow. */
export function compileExecution(
  executionId: string,
  prepared: PreparedWorkflow,
  options: { defaultTimeoutMs: number; correlationId?: string; now?: number },
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
    correlationId: options.correlationId,
    createdAt: options.now ?? Date.now(),
  };
}

/** The run's task ids, in declaration order. */
export function taskIds(def: ExecutionDefinition): string[] {
  return Object.keys(def.tasks);
}
