import {
  applyTriggerRule,
  type CompiledTask,
  type EdgeOutcome,
  edgeOutcome,
  planWorkflow,
  pointerJoin,
  prepareInline,
  type Simulation,
  type TaskDefinition,
  taskTypeOf,
} from '@orch/core';
import { ExpressionError, resolveValue } from '@orch/expressions';

export type DryRunStatus = 'completed' | 'skipped' | 'failed';

export interface DryRunTaskResult {
  status: DryRunStatus;
  output?: unknown;
  error?: string;
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

/**
 * Runs a workflow without side effects: each task type's module simulates it (service tasks answer with mocks,
 * transforms and conditions are evaluated for real, delays return at once). It finds what static validation
 * cannot: expressions that fail on real (if empty) data, such as `${t.output.rows[0].name}`. Expression errors are
 * collected with their pointers; a workflow that does not validate throws the validator's ValidationError.
 * `variables` override the workflow's. Edges and trigger rules are the engine's own (`edgeOutcome`, `applyTriggerRule`).
 */
export function dryRun(workflow: unknown, options: { variables?: Record<string, unknown> } = {}): DryRunResult {
  const prepared = prepareInline(workflow, options.variables ?? {}, '');
  const plan = planWorkflow(prepared);
  const definitions = prepared.workflow.tasks;
  const indexOf = new Map(definitions.map((t, i) => [t.id, i]));
  const scope: Scope = { ...prepared.variables };
  const result: DryRunResult = { tasks: {}, branches: [], errors: [] };
  const finished = new Map<string, Finished>();

  for (const planned of plan.levels.flat()) {
    const index = indexOf.get(planned.id) as number;
    const task = definitions[index] as TaskDefinition;
    const record = (entry: DryRunTaskResult, end: Finished) => {
      result.tasks[task.id] = entry;
      scope[task.id] = { ...entry };
      finished.set(task.id, end);
    };
    const compiled = prepared.compiled.tasks[task.id] as CompiledTask;
    const deps = compiled.deps;
    const edges = deps.map((dep) => edgeTo(compiled, prepared.compiled.tasks[dep], finished));
    const decision = applyTriggerRule(task.trigger_rule, edges);
    if (decision !== 'run') {
      const failed = deps.filter((_, i) => edges[i] === 'failed');
      if (decision === 'skipped') record({ status: 'skipped' }, { status: 'skipped' });
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
    const output = sim.simulate(task, `/tasks/${index}`);
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
  return result;
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
): EdgeOutcome {
  const end = dep && finished.get(dep.id);
  if (!dep || !end) return 'skipped';
  return edgeOutcome(end.status, dep.failsWorkflow, task.branches?.[dep.id], end.result);
}
