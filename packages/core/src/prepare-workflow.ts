import { ValidationError } from '@orch/errors';
import { partiallyResolve, resolveValue } from '@orch/expressions';
import type { DagAnalysis } from './analyze-dag';
import { type CompiledWorkflow, compileWorkflow } from './compile-workflow';
import { taskTypeOf, taskTypesGeneration } from './task-types';
import { validateTemplate, validateWorkflow } from './validate-workflow';
import { resolveInputs } from './variables';
import type { TemplateDefinition, WorkflowDefinition } from './workflow';

/**
 * A workflow ready to run: validated and compiled, with its variables resolved. Task expressions stay for run
 * time. Plan, the dry run and the engine all read `compiled`.
 */
export interface PreparedWorkflow {
  workflow: WorkflowDefinition;
  /** Every name a task expression may read besides task results. */
  variables: Record<string, unknown>;
  dag: DagAnalysis;
  compiled: CompiledWorkflow;
  template?: { id: string; version?: string };
}

/**
 * A valid template's analysis and compiled form, which depend on the template alone: kept per template object (a
 * catalog version is one object, never changed), so each start of a catalog template pays for its variables only.
 * Failures are not kept: a task type registered later may make the template valid.
 */
const compiledTemplates = new WeakMap<TemplateDefinition, { dag: DagAnalysis; compiled: CompiledWorkflow }>();

function compileTemplate(template: TemplateDefinition): { dag: DagAnalysis; compiled: CompiledWorkflow } {
  const known = compiledTemplates.get(template);
  if (known) return known;
  const checked = validateTemplate(template);
  if (checked.errors.length > 0 || !checked.dag) {
    throw new ValidationError(`template '${template.id}' is invalid`, checked.errors, { code: 'TEMPLATE_INVALID' });
  }
  const dag = checked.dag;
  const compiled = compileWorkflow(template.workflow, dag, checked.reads ?? new Map(), checked.exitDag);
  const entry = { dag, compiled };
  compiledTemplates.set(template, entry);
  return entry;
}

/** Checks the template and the caller's variables, then resolves the workflow's variables; throws every problem at once. */
export function prepareFromTemplate(
  template: TemplateDefinition,
  given: Record<string, unknown> = {},
): PreparedWorkflow {
  const { dag, compiled } = compileTemplate(template);
  const inputs = resolveInputs(template.variables ?? [], given);
  if (inputs.errors.length > 0)
    throw new ValidationError(`variables do not fit template '${template.id}'`, inputs.errors);
  const own = resolveValue(template.workflow.variables ?? {}, inputs.values) as Record<string, unknown>;
  return {
    workflow: template.workflow,
    variables: { ...inputs.values, ...own },
    dag,
    compiled,
    template: { id: template.id, version: template.version },
  };
}

/**
 * Inline workflows by their JSON text, the names of the variables given, where errors point, and the task types'
 * generation: the analysis and compiled form depend on nothing else, and clients send the same body again and again.
 * Bounded (oldest dropped first), documents up to 64 KB; failures are not kept.
 */
const compiledInline = new Map<
  string,
  { workflow: WorkflowDefinition; dag: DagAnalysis; compiled: CompiledWorkflow }
>();
const INLINE_CACHE_SIZE = 256;
const INLINE_CACHE_MAX_CHARS = 64 * 1024;

function compileInline(workflow: unknown, inputs: string[], base: string) {
  const text = JSON.stringify(workflow) ?? '';
  const key =
    text.length <= INLINE_CACHE_MAX_CHARS
      ? [taskTypesGeneration(), base, [...inputs].sort().join(','), text].join('\0')
      : undefined;
  const known = key === undefined ? undefined : compiledInline.get(key);
  if (known) return known;
  const checked = validateWorkflow(workflow, { inputs, base });
  if (checked.errors.length > 0 || !checked.dag) throw new ValidationError('workflow is invalid', checked.errors);
  const wf = workflow as WorkflowDefinition;
  const entry = {
    workflow: wf,
    dag: checked.dag,
    compiled: compileWorkflow(wf, checked.dag, checked.reads ?? new Map(), checked.exitDag),
  };
  if (key !== undefined) {
    compiledInline.set(key, entry);
    if (compiledInline.size > INLINE_CACHE_SIZE) compiledInline.delete(compiledInline.keys().next().value as string);
  }
  return entry;
}

/** An inline workflow: the caller's variables override the workflow's own defaults. */
export function prepareInline(
  workflow: unknown,
  given: Record<string, unknown> = {},
  base = '/workflow',
): PreparedWorkflow {
  const { workflow: wf, dag, compiled } = compileInline(workflow, Object.keys(given), base);
  const own = resolveValue(wf.variables ?? {}, given) as Record<string, unknown>;
  return { workflow: wf, variables: { ...own, ...given }, dag, compiled };
}

export interface PlannedTask {
  id: string;
  type: string;
  depends_on: string[];
  parameters: unknown;
  condition?: string;
}

/** The execution order in levels, with every expression that needs only variables already resolved. */
export function planWorkflow(prepared: PreparedWorkflow): {
  levels: PlannedTask[][];
  depth: number;
  width: number;
  critical_path: string[];
  critical_path_ms: number;
} {
  const byId = new Map(prepared.workflow.tasks.map((t) => [t.id, t]));
  const known = (root: string) => Object.hasOwn(prepared.variables, root);
  const levels = prepared.dag.levels.map((ids) =>
    ids.map((id) => {
      const t = byId.get(id);
      if (!t) throw new Error(`planned task '${id}' is missing`);
      const planned: PlannedTask = {
        id,
        type: t.type,
        depends_on: prepared.compiled.tasks[id]?.deps ?? [],
        parameters: planParameters(t.type, t.parameters ?? {}, prepared.variables, known),
      };
      if (t.condition !== undefined) planned.condition = t.condition;
      return planned;
    }),
  );
  return {
    levels,
    depth: prepared.dag.depth,
    width: prepared.dag.width,
    critical_path: prepared.dag.criticalPath,
    critical_path_ms: prepared.dag.criticalPathMs,
  };
}

/** Parameters with what needs only variables resolved; those that are a scope of their own stay as written. */
function planParameters(
  type: string,
  parameters: Record<string, unknown>,
  variables: Record<string, unknown>,
  known: (root: string) => boolean,
): unknown {
  const literal = taskTypeOf(type)?.literalParameters ?? [];
  const outer = Object.fromEntries(Object.entries(parameters).filter(([key]) => !literal.includes(key)));
  const resolved = partiallyResolve(outer, variables, known) as Record<string, unknown>;
  for (const key of literal) if (Object.hasOwn(parameters, key)) resolved[key] = parameters[key];
  return resolved;
}
