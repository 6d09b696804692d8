import type { DagAnalysis } from './analyze-dag';
import { parseDuration } from './duration';
import { conditionExpression, externalTaskTypeOf, type TaskType, taskTypeOf } from './task-types';
import type { TaskDefinition, TriggerRule, WorkflowDefinition } from './workflow';

/** [kind, first delay ms, cap ms, jitter 0..1]: compact, it rides in every task job's data. */
export type BackoffSpec = ['fixed' | 'exponential', number, number, number];

/** What a worker needs to run one task, computed once, when the workflow is validated. */
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
  /**
   * The task's own `condition` on a type without branches (Argo's `when`), as an expression: checked once the
   * trigger rule says run; false skips the task (`condition false`).
   */
  when?: string;
  /** An exit handler (`on_exit`): run once the run's tasks have ended. */
  exit?: true;
  /** The worker pool that runs it (`queue:`), when not `default`. */
  queue?: string;
}

/** The queue every task without a `queue:` goes to. */
export const DEFAULT_QUEUE = 'default';

/** A validated workflow's compiled form: what plan, the dry run and the engine read. */
export interface CompiledWorkflow {
  /** By task id, in declaration order (a record without a prototype). */
  tasks: Record<string, CompiledTask>;
  roots: string[];
  failFast: boolean;
  /** The workflow's own timeout, when it declares one. */
  timeoutMs?: number;
  /** Exit handlers by id, in declaration order (a record without a prototype), and those without dependencies. */
  exitTasks?: Record<string, CompiledTask>;
  exitRoots?: string[];
  /** At most this many tasks and parallel items running at once. */
  maxConcurrency?: number;
  /** Tasks a submission's `targets` do not need: recorded `skipped` (`not targeted`) when the run is created. */
  untargeted?: string[];
}

/**
 * Compiles a workflow the validator accepted: its graph (`dag`) and the tasks each task's expressions read (`reads`,
 * found by the validator as it checked them) become per-task edges, branches, retry and timeout settings.
 */
export function compileWorkflow(
  workflow: WorkflowDefinition,
  dag: DagAnalysis,
  reads: ReadonlyMap<string, readonly string[]>,
  exitDag?: DagAnalysis,
): CompiledWorkflow {
  const compiled: CompiledWorkflow = {
    tasks: compileTasks(workflow.tasks, dag, reads),
    roots: dag.roots,
    failFast: workflow.fail_fast !== false,
  };
  if (workflow.timeout !== undefined) compiled.timeoutMs = parseDuration(workflow.timeout);
  if (workflow.max_concurrency !== undefined) compiled.maxConcurrency = workflow.max_concurrency;
  if (workflow.on_exit && exitDag) {
    compiled.exitTasks = compileTasks(workflow.on_exit, exitDag, reads);
    for (const task of Object.values(compiled.exitTasks)) task.exit = true;
    compiled.exitRoots = exitDag.roots;
  }
  return compiled;
}

/** One list of tasks (the workflow's, or its exit handlers) over its graph. */
function compileTasks(
  list: readonly TaskDefinition[],
  dag: DagAnalysis,
  reads: ReadonlyMap<string, readonly string[]>,
): Record<string, CompiledTask> {
  // Keyed by task id: no prototype, so an id such as `constructor` is only ever a task.
  const tasks: Record<string, CompiledTask> = Object.create(null);
  const byId = new Map(list.map((t) => [t.id, t]));
  for (const t of list) {
    const deps = dag.dependencies[t.id] ?? [];
    const branches: Record<string, 'on_success' | 'on_failure'> = Object.create(null);
    for (const d of deps) {
      const dep = byId.get(d);
      if (dep?.on_success?.includes(t.id)) branches[d] = 'on_success';
      else if (dep?.on_failure?.includes(t.id)) branches[d] = 'on_failure';
    }
    const read = new Set(reads.get(t.id) ?? []);
    for (const d of Object.keys(branches)) read.add(d);
    const guarded = t.condition !== undefined && taskTypeOf(t.type)?.branches !== true;
    tasks[t.id] = {
      id: t.id,
      type: t.type,
      deps,
      dependents: dag.dependents[t.id] ?? [],
      reads: [...read],
      attempts: (t.retry_policy?.max_retries ?? 0) + 1,
      backoff: backoffOf(t),
      timeoutMs: t.timeout === undefined ? undefined : parseDuration(t.timeout),
      failsWorkflow: t.continue_on_failure !== true,
      rule: t.trigger_rule ?? 'none_failed_min_one_success',
      ...(Object.keys(branches).length > 0 ? { branches } : {}),
      ...(guarded ? { when: conditionExpression(t.condition as string) } : {}),
      ...queueOf(t),
    };
  }
  return tasks;
}

/** The task's own `queue:`, else its type's (an SDK type's tasks go to its worker's queue); none for the default. */
function queueOf(task: TaskDefinition): { queue?: string } {
  const queue = task.queue ?? externalTaskTypeOf(task.type)?.queue;
  return queue !== undefined && queue !== DEFAULT_QUEUE ? { queue } : {};
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
