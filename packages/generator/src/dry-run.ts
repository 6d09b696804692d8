import {
  applyTriggerRule,
  DURATION_HINT,
  type EdgeOutcome,
  planWorkflow,
  pointerJoin,
  prepareInline,
  type TaskDefinition,
  tryParseDuration,
} from '@orch/core';
import { ExpressionError, resolveValue } from '@orch/expressions';
import { mockOutput } from './mock-outputs';

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

/**
 * Runs a workflow without side effects: service tasks (data, ai, exec) answer with mocks, transforms and conditions
 * are evaluated for real, delays return at once. It finds what static validation cannot: expressions that fail on
 * real (if empty) data, such as `${t.output.rows[0].name}`. Expression errors are collected with their pointers;
 * a workflow that does not validate throws the validator's ValidationError. `variables` override the workflow's.
 */
export function dryRun(workflow: unknown, options: { variables?: Record<string, unknown> } = {}): DryRunResult {
  const prepared = prepareInline(workflow, options.variables ?? {}, '');
  const plan = planWorkflow(prepared);
  const definitions = prepared.workflow.tasks;
  const indexOf = new Map(definitions.map((t, i) => [t.id, i]));
  const scope: Scope = { ...prepared.variables };
  const result: DryRunResult = { tasks: {}, branches: [], errors: [] };
  /** How each finished task looks to its dependents, before branches are taken into account. */
  const outcome = new Map<string, Edge>();
  const conditionResult = new Map<string, boolean>();

  for (const planned of plan.levels.flat()) {
    const index = indexOf.get(planned.id) as number;
    const task = definitions[index] as TaskDefinition;
    const record = (entry: DryRunTaskResult, edge: Edge) => {
      result.tasks[task.id] = entry;
      scope[task.id] = { ...entry };
      outcome.set(task.id, edge);
    };
    const deps = prepared.dag.dependencies[task.id] ?? [];
    const edges = deps.map((dep) => edgeTo(task.id, definitions[indexOf.get(dep) as number], outcome, conditionResult));
    const decision = applyTriggerRule(task.trigger_rule, edges);
    if (decision !== 'run') {
      const failed = deps.filter((_, i) => edges[i] === 'failed');
      if (decision === 'skipped') record({ status: 'skipped' }, 'skipped');
      else record({ status: 'skipped', error: `not run: ${failed.map((d) => `'${d}'`).join(', ')} failed` }, 'failed');
      continue;
    }
    const errors: DryRunError[] = [];
    const report = (pointer: string, message: string) => {
      if (!errors.some((e) => e.pointer === pointer && e.message === message))
        errors.push({ task: task.id, pointer, message });
    };
    const resolve = (value: unknown, pointer: string, extra?: Scope) =>
      resolveAt(value, extra ? { ...scope, ...extra } : scope, pointer, report);
    const output = simulate(task, `/tasks/${index}`, { resolve, report });
    if (errors.length > 0) {
      result.errors.push(...errors);
      record({ status: 'failed', error: errors[0]?.message }, task.continue_on_failure ? 'success' : 'failed');
      continue;
    }
    record({ status: 'completed', output }, 'success');
    if (task.type === 'condition') {
      // Dependents follow the result; a branch's tasks see a skipped edge from a condition that went the other way.
      const value = (output as { result: boolean }).result;
      conditionResult.set(task.id, value);
      const [taken, skipped] = value
        ? [task.on_success ?? [], task.on_failure ?? []]
        : [task.on_failure ?? [], task.on_success ?? []];
      result.branches.push({ task: task.id, result: value, taken: [...taken], skipped: [...skipped] });
    }
  }
  return result;
}

interface Evaluation {
  /** Interpolates against the results so far (plus `extra`, e.g. item and index); failures are reported. */
  resolve(value: unknown, pointer: string, extra?: Scope): unknown;
  report(pointer: string, message: string): void;
}

function simulate(task: TaskDefinition, at: string, ev: Evaluation): unknown {
  const params = task.parameters ?? {};
  switch (task.type) {
    case 'condition': {
      ev.resolve(params, `${at}/parameters`);
      const source = (task.condition ?? '').includes('${') ? (task.condition as string) : `\${${task.condition}}`;
      // The expression language tests with truthiness (`!`, `&&`, `?:`); a condition task does the same.
      const value = ev.resolve(source, `${at}/condition`);
      return { result: Boolean(value), value };
    }
    case 'parallel':
      return simulateParallel(params, at, ev);
    default:
      return simulateLeaf(task.type, ev.resolve(params, `${at}/parameters`), `${at}/parameters`, ev);
  }
}

function simulateParallel(params: Record<string, unknown>, at: string, ev: Evaluation): unknown {
  const { tasks, task, ...rest } = params;
  const resolved = ev.resolve(rest, `${at}/parameters`) as Record<string, unknown>;
  if (Array.isArray(tasks)) {
    return tasks.map((sub: SubTask, j) => {
      const where = `${at}/parameters/tasks/${j}/parameters`;
      return simulateLeaf(sub.type, ev.resolve(sub.parameters ?? {}, where), where, ev);
    });
  }
  const items = resolved.for_each;
  if (!Array.isArray(items)) {
    // Undefined means the expression already failed and was reported.
    if (items !== undefined) ev.report(`${at}/parameters/for_each`, `must be a list; got ${describe(items)}`);
    return [];
  }
  const sub = task as SubTask;
  const where = `${at}/parameters/task/parameters`;
  return items.map((item, index) =>
    simulateLeaf(sub.type, ev.resolve(sub.parameters ?? {}, where, { item, index }), where, ev),
  );
}

interface SubTask {
  type: string;
  parameters?: unknown;
}

function simulateLeaf(type: string, params: unknown, at: string, ev: Evaluation): unknown {
  switch (type) {
    case 'data':
    case 'ai':
    case 'exec':
      return mockOutput(type);
    case 'transform':
      return (params as { output?: unknown }).output;
    case 'workflow':
      // A dry run does not start child runs; their outputs are unknown.
      return { execution_id: 'dry-run', status: 'completed', outputs: {} };
    case 'approval':
      // A dry run approves without asking anyone, so the rest of the workflow can be checked.
      return { approved: true, by: 'dry-run', payload: null };
    case 'delay': {
      const duration = (params as { duration?: unknown }).duration;
      if (duration !== undefined && tryParseDuration(duration) === undefined) {
        ev.report(`${at}/duration`, `must be ${DURATION_HINT}; got ${describe(duration)}`);
      }
      return {};
    }
    default:
      return undefined;
  }
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

type Edge = EdgeOutcome;

/**
 * What dependency `dep` means for `id`: its own outcome, except that a condition counts as skipped for the tasks of
 * the branch it did not take (so they are skipped, and so is whatever depends only on them).
 */
function edgeTo(
  id: string,
  dep: TaskDefinition | undefined,
  outcome: ReadonlyMap<string, Edge>,
  conditionResult: ReadonlyMap<string, boolean>,
): Edge {
  if (!dep) return 'skipped';
  const edge = outcome.get(dep.id) ?? 'skipped';
  const value = conditionResult.get(dep.id);
  if (edge !== 'success' || value === undefined) return edge;
  if (dep.on_success?.includes(id)) return value ? 'success' : 'skipped';
  if (dep.on_failure?.includes(id)) return value ? 'skipped' : 'success';
  return edge;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
