import { resolveValue } from '@orch/expressions';
import type { SkipReason } from '@orch/run-model';
import { type CompiledTask, type ExecutionDefinition, taskOf } from './execution-definition';
import type { StartTaskReply } from './run-scripts';
import { decide, edgeOutcome, skipReasonOf } from './trigger-rules';

/* What an attempt reads and decides before its handler runs: its inputs, its trigger rule, its parameters. */

/** What start-task read: the statuses of `wanted` tasks, the outputs of `reads` tasks. */
export function inputsOf(
  wanted: readonly string[],
  reads: readonly string[],
  reply: StartTaskReply,
): { statuses: Map<string, string>; outputs: Map<string, unknown> } {
  const statuses = new Map(wanted.map((id, i) => [id, reply.statuses[i] ?? '']));
  const outputs = new Map<string, unknown>();
  reads.forEach((id, i) => {
    const raw = reply.outputs[i];
    outputs.set(id, raw ? JSON.parse(raw) : undefined);
  });
  return { statuses, outputs };
}

/**
 * The task's trigger rule over its dependencies' outcomes: run, or complete as skipped (with why) or upstream_failed.
 */
export function triggerDecision(
  def: ExecutionDefinition,
  task: CompiledTask,
  statuses: ReadonlyMap<string, string>,
  outputs: ReadonlyMap<string, unknown>,
): { decision: 'run' | 'skipped' | 'upstream_failed'; reason?: SkipReason } {
  if (task.deps.length === 0) return { decision: 'run' };
  const edges = task.deps.map((d) => {
    const status = statuses.get(d) ?? '';
    const branch = task.branches?.[d];
    const result = (outputs.get(d) as { result?: unknown } | undefined)?.result;
    return { status, branch, outcome: edgeOutcome(status, taskOf(def, d)?.failsWorkflow ?? true, branch, result) };
  });
  const outcomes = edges.map((edge) => edge.outcome);
  const decision = decide(task, outcomes);
  return decision === 'skipped' ? { decision, reason: skipReasonOf(edges) } : { decision };
}

/** The failure recorded for an exit handler stopped at the end of its grace period. */
export const EXIT_STOPPED = "stopped: the run's exit handlers ran past their grace period (EXIT_GRACE_PERIOD)";

/** Parameters resolved in the task's scope, except those that are a scope of their own (kept as written). */
export function resolveOuter(
  literal: readonly string[] | undefined,
  source: { parameters?: Record<string, unknown> },
  scope: Record<string, unknown>,
): unknown {
  const parameters = source.parameters ?? {};
  if (!literal) return resolveValue(parameters, scope);
  const outer = Object.fromEntries(Object.entries(parameters).filter(([key]) => !literal.includes(key)));
  const resolved = resolveValue(outer, scope) as Record<string, unknown>;
  for (const key of literal) if (Object.hasOwn(parameters, key)) resolved[key] = parameters[key];
  return resolved;
}

/** What every log line of a task attempt carries. */
export function logFields(def: ExecutionDefinition, task: string, attempt: number): Record<string, unknown> {
  return {
    execution_id: def.executionId,
    task_id: task,
    correlation_id: def.correlationId,
    request_id: def.requestId,
    attempt,
  };
}
