import {
  type PreparedWorkflow,
  parseDuration,
  type TaskDefinition,
  type TaskType,
  type TriggerRule,
  type WorkflowDefinition,
} from '@orch/core';
import { collectExpressions, expressionReferences } from '@orch/expressions';

/** [kind, first delay ms, cap ms, jitter 0..1]: compact, it rides in every task job's data. */
export type BackoffSpec = ['fixed' | 'exponential', number, number, number];

/** What a worker needs to run one task, computed once at submit time. */
export interface CompiledTask {
  id: string;
  type: TaskType;
  deps: string[];
  dependents: string[];
  /** Tasks whose outputs this task's expressions read (dependencies, direct or not), plus condition dependencies. */
  reads: string[];
  attempts: number;
  backoff?: BackoffSpec;
  timeoutMs?: number;
  /** False with `continue_on_failure`: a failure neither fails the run nor blocks dependents. */
  failsWorkflow: boolean;
  rule: TriggerRule;
  /** For each condition dependency, the branch this task sits on. */
  branches?: Record<string, 'on_success' | 'on_failure'>;
}

/** The immutable, compiled form of one execution, stored once in Redis and cached by workers. */
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

export function compileExecution(
  executionId: string,
  prepared: PreparedWorkflow,
  options: { defaultTimeoutMs: number; correlationId?: string; now?: number },
): ExecutionDefinition {
  const { workflow, dag } = prepared;
  const ids = new Set(dag.ids);
  const tasks: Record<string, CompiledTask> = {};
  const byId = new Map(workflow.tasks.map((t) => [t.id, t]));
  for (const t of workflow.tasks) {
    const deps = dag.dependencies[t.id] ?? [];
    const branches: Record<string, 'on_success' | 'on_failure'> = {};
    for (const d of deps) {
      const dep = byId.get(d);
      if (dep?.on_success?.includes(t.id)) branches[d] = 'on_success';
      else if (dep?.on_failure?.includes(t.id)) branches[d] = 'on_failure';
    }
    const reads = new Set(readsOf(t, ids));
    for (const d of Object.keys(branches)) reads.add(d);
    tasks[t.id] = {
      id: t.id,
      type: t.type,
      deps,
      dependents: dag.dependents[t.id] ?? [],
      reads: [...reads],
      attempts: (t.retry_policy?.max_retries ?? 0) + 1,
      backoff: backoffOf(t),
      timeoutMs: t.timeout === undefined ? undefined : parseDuration(t.timeout),
      failsWorkflow: t.continue_on_failure !== true,
      rule: t.trigger_rule ?? 'none_failed_min_one_success',
      ...(Object.keys(branches).length > 0 ? { branches } : {}),
    };
  }
  return {
    executionId,
    workflow,
    variables: prepared.variables,
    tasks,
    roots: dag.roots,
    failFast: workflow.fail_fast !== false,
    timeoutMs: workflow.timeout === undefined ? options.defaultTimeoutMs : parseDuration(workflow.timeout),
    template: prepared.template,
    correlationId: options.correlationId,
    createdAt: options.now ?? Date.now(),
  };
}

function readsOf(task: TaskDefinition, ids: Set<string>): string[] {
  const sources = collectExpressions([task.parameters ?? {}, task.condition ?? '']).map((e) => e.source);
  if (task.condition && !task.condition.includes('${')) sources.push(task.condition);
  const found = new Set<string>();
  for (const source of sources) {
    for (const ref of expressionReferences(source)) if (ids.has(ref.root) && ref.root !== task.id) found.add(ref.root);
  }
  return [...found];
}

function backoffOf(task: TaskDefinition): BackoffSpec | undefined {
  const policy = task.retry_policy;
  if (!policy || policy.max_retries === 0) return undefined;
  const initial = policy.initial_delay === undefined ? 1000 : parseDuration(policy.initial_delay);
  const cap = policy.max_delay === undefined ? 3_600_000 : parseDuration(policy.max_delay);
  return [policy.backoff_type ?? 'exponential', initial, cap, policy.jitter ?? 0];
}

/** The delay before retry number `attemptsMade` (1 after the first failure). */
export function backoffDelay(spec: BackoffSpec, attemptsMade: number, random: () => number = Math.random): number {
  const [kind, initial, cap, jitter] = spec;
  const base = kind === 'fixed' ? initial : initial * 2 ** Math.max(0, attemptsMade - 1);
  const capped = Math.min(base, cap);
  // Jitter only shortens the wait, so the policy's delay stays an upper bound and max_delay holds.
  return Math.round(capped * (1 - jitter * random()));
}
