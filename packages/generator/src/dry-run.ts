import {
  analyzeDag,
  applyTriggerRule,
  type CompiledTask,
  type EdgeOutcome,
  edgeOutcome,
  planWorkflow,
  pointerJoin,
  prepareInline,
  type Simulation,
  skipReasonOf,
  type TaskDefinition,
  taskTypeOf,
} from '@orch/core';
import { ExpressionError, resolveValue } from '@orch/expressions';
import type { SkipReason } from '@orch/run-model';

export type DryRunStatus = 'completed' | 'skipped' | 'failed';

export interface DryRunTaskResult {
  status: DryRunStatus;
  output?: unknown;
  error?: string;
  /** Why a skipped task would not run (the engine's skip reasons). */
  reason?: SkipReason;
}

export interface DryRunBranch {
  /** The condition task. */
  task: string;
  result: boolean;
  /** The tasks of the branch that runs (on_success when true, on_failure when false). */
  taken: string[];
  /** The tasks of the other branch, skipped. */
  skipped: string[];
}

export interface DryRunError {
  task: string;
  pointer: string;
  message: string;
}

export interface DryRunResult {
  tasks: Record<string, DryRunTaskResult>;
  branches: DryRunBranch[];
  errors: DryRunError[];
}

type Scope = Record<string, unknown>;

/** How a finished task looks to its dependents, in the engine's terms. */
interface Finished {
  status: 'completed' | 'failed' | 'skipped' | 'upstream_failed';
  /** A condition task's `result`. */
  result?: unknown;
}

/** One list of tasks to simulate in order: the workflow's, or its exit handlers. */
interface TaskList {
  order: string[];
  definitions: readonly TaskDefinition[];
  compiled: Record<string, CompiledTask>;
  /** `tasks` or `on_exit`, for pointers. */
  path: string;
}

/**
 * Runs a workflow without side effects: each task type's module simulates it (service tasks answer with mocks,
 * transforms and conditions are evaluated for real, delays return at once). It finds what static validation
 * cannot: expressions that fail on real (if empty) data, such as `${t.output.rows[0].name}`. Expression errors are
 * collected with their pointers; a workflow that does not validate throws the validator's ValidationError.
 * `variables` override the workflow's. Edges, trigger rules and skip reasons are the engine's own (`edgeOutcome`,
 * `applyTriggerRule`, `skipReasonOf`). Exit handlers run last, seeing `${workflow.status}` as the tasks ended.
 */
export function dryRun(workflow: unknown, options: { variables?: Record<string, unknown> } = {}): DryRunResult {
  const prepared = prepareInline(workflow, options.variables ?? {}, '');
  const plan = planWorkflow(prepared);
  const scope: Scope = { ...prepared.variables };
  const result: DryRunResult = { tasks: {}, branches: [], errors: [] };
  const finished = new Map<string, Finished>();
  const main: TaskList = {
    order: plan.levels.flat().map((t) => t.id),
    definitions: prepared.workflow.tasks,
    compiled: prepared.compiled.tasks,
    path: 'tasks',
  };
  simulateList(main, scope, finished, result);
  const exits = prepared.workflow.on_exit;
  if (exits && prepared.compiled.exitTasks) {
    const failures = Object.keys(main.compiled)
      .filter((id) => result.tasks[id]?.status === 'failed')
      .map((task) => ({ task, error: result.tasks[task]?.error ?? '' }));
    const status = failures.length > 0 ? 'failed' : 'completed';
    scope.workflow = { execution_id: 'dry-run', status, failures, duration_ms: 0 };
    const order = analyzeDag(exits).order;
    simulateList(
      { order, definitions: exits, compiled: prepared.compiled.exitTasks, path: 'on_exit' },
      scope,
      finished,
      result,
    );
  }
  return result;
}

function simulateList(list: TaskList, scope: Scope, finished: Map<string, Finished>, result: DryRunResult): void {
  const indexOf = new Map(list.definitions.map((t, i) => [t.id, i]));
  for (const id of list.order) {
    const index = indexOf.get(id) as number;
    const task = list.definitions[index] as TaskDefinition;
    const at = `/${list.path}/${index}`;
    const record = (entry: DryRunTaskResult, end: Finished) => {
      result.tasks[task.id] = entry;
      scope[task.id] = { output: entry.output, status: entry.status, error: entry.error };
      finished.set(task.id, end);
    };
    const compiled = list.compiled[task.id] as CompiledTask;
    const edges = compiled.deps.map((dep) => edgeTo(compiled, list.compiled[dep], finished));
    const decision = applyTriggerRule(
      task.trigger_rule,
      edges.map((e) => e.outcome),
    );
    if (decision !== 'run') {
      const failed = compiled.deps.filter((_, i) => edges[i]?.outcome === 'failed');
      if (decision === 'skipped') record({ status: 'skipped', reason: skipReasonOf(edges) }, { status: 'skipped' });
      else
        record(
          { status: 'skipped', error: `not run: ${failed.map((d) => `'${d}'`).join(', ')} failed` },
          { status: 'upstream_failed' },
        );
      continue;
    }
    const errors: DryRunError[] = [];
    const sim = simulation(scope, (pointer, message) => {
      if (!errors.some((e) => e.pointer === pointer && e.message === message))
        errors.push({ task: task.id, pointer, message });
    });
    // The task's own condition (Argo's `when`), as the engine checks it once the trigger rule says run.
    if (compiled.when !== undefined && !sim.resolve(compiled.when, `${at}/condition`) && errors.length === 0) {
      record({ status: 'skipped', reason: 'condition false' }, { status: 'skipped' });
      continue;
    }
    const output = errors.length > 0 ? undefined : sim.simulate(task, at);
    if (errors.length > 0) {
      result.errors.push(...errors);
      record({ status: 'failed', error: errors[0]?.message }, { status: 'failed' });
      continue;
    }
    const branches = taskTypeOf(task.type)?.branches === true;
    const value = branches ? (output as { result: boolean }).result : undefined;
    record({ status: 'completed', output }, { status: 'completed', result: value });
    if (branches) {
      // Dependents follow the result; a branch's tasks see a skipped edge from a condition that went the other way.
      const [taken, skipped] = value
        ? [task.on_success ?? [], task.on_failure ?? []]
        : [task.on_failure ?? [], task.on_success ?? []];
      result.branches.push({ task: task.id, result: Boolean(value), taken: [...taken], skipped: [...skipped] });
    }
  }
}

/** The dry run's tools over `scope` (plus `extra` names): each task type's `simulate` uses them. */
function simulation(scope: Scope, report: (pointer: string, message: string) => void, extra?: Scope): Simulation {
  const names = extra ? { ...scope, ...extra } : scope;
  const sim: Simulation = {
    resolve: (value, pointer) => resolveAt(value, names, pointer, report),
    report,
    with: (more) => simulation(scope, report, { ...extra, ...more }),
    simulate: (task, at) => taskTypeOf(task.type)?.simulate(task, at, sim),
  };
  return sim;
}

/**
 * Deep copy with every string interpolated, like resolveValue, but one string at a time so each failure is
 * reported at its own pointer instead of stopping at the first.
 */
function resolveAt(
  value: unknown,
  scope: Scope,
  pointer: string,
  fail: (pointer: string, message: string) => void,
): unknown {
  if (typeof value === 'string') {
    try {
      return resolveValue(value, scope);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      fail(pointer, error.message);
      return undefined;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveAt(item, scope, pointerJoin(pointer, i), fail));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveAt(item, scope, pointerJoin(pointer, key), fail)]),
    );
  }
  return value;
}

/** What dependency `dep` means for `task`: the engine's edge outcome of its end, over the compiled edges. */
function edgeTo(
  task: CompiledTask,
  dep: CompiledTask | undefined,
  finished: ReadonlyMap<string, Finished>,
): { status: string; branch?: 'on_success' | 'on_failure'; outcome: EdgeOutcome } {
  const end = dep && finished.get(dep.id);
  if (!dep || !end) return { status: 'skipped', outcome: 'skipped' };
  const branch = task.branches?.[dep.id];
  return { status: end.status, branch, outcome: edgeOutcome(end.status, dep.failsWorkflow, branch, end.result) };
}
