import type { ErrorDetail } from '@orch/errors';
import { collectExpressions, expressionReferences } from '@orch/expressions';
import { ajv, formatAjvErrors, pointerJoin } from './ajv';
import { analyzeDag, type DagAnalysis, dependsTransitively } from './analyze-dag';
import { tryParseDuration } from './duration';
import { schemaWithExpressions } from './task-catalog';
import { conditionExpression, TASK_CATALOG, TASK_TYPES, type TaskType, taskTypeOf } from './task-types';
import { coerce } from './variables';
import { type TaskDefinition, type TemplateDefinition, VARIABLE_TYPES, type WorkflowDefinition } from './workflow';
import { templateSchema, workflowSchema } from './workflow-schema';

export interface ValidationResult {
  errors: ErrorDetail[];
  /** Present when the task graph could be analysed (no cycle, ids unique). */
  dag?: DagAnalysis;
  /** With `dag`: by task, the tasks its expressions read (what compiling needs; found while checking them). */
  reads?: Map<string, string[]>;
}

const checkWorkflowShape = ajv.compile(workflowSchema);
const checkTemplateShape = ajv.compile(templateSchema);
const parameterCheckers = new Map<string, ReturnType<typeof ajv.compile>>();

/** The submit-time check of a type's parameters (any value may still be a `${...}` expression), compiled once. */
function parameterChecker(type: string): ReturnType<typeof ajv.compile> {
  let check = parameterCheckers.get(type);
  if (!check) {
    check = ajv.compile(schemaWithExpressions(TASK_CATALOG[type as TaskType].schema as Record<string, unknown>));
    parameterCheckers.set(type, check);
  }
  return check;
}

/** What a task may read, besides workflow variables: `${id.output}`, `${id.status}`, `${id.error}`. */
const TASK_FIELDS = new Set(['output', 'status', 'error']);

/**
 * Validates a workflow document and reports every problem at once. `inputs` names the variables the caller
 * supplies (a template's declared variables); `base` prefixes pointers (`/workflow` inside a template).
 */
export function validateWorkflow(
  doc: unknown,
  options: { inputs?: Iterable<string>; base?: string } = {},
): ValidationResult {
  const base = options.base ?? '';
  if (!checkWorkflowShape(doc)) {
    const errors = formatAjvErrors(checkWorkflowShape.errors, base);
    const tasks = (doc as { tasks?: unknown } | null)?.tasks;
    // Shape errors inside tasks still leave ids and edges worth checking, so keep going when tasks is a list.
    if (!Array.isArray(tasks)) return { errors };
    return mergeErrors(
      errors,
      checkSemantics(doc as unknown as WorkflowDefinition, new Set(options.inputs ?? []), base),
    );
  }
  return checkSemantics(doc as unknown as WorkflowDefinition, new Set(options.inputs ?? []), base);
}

/** Validates a template: its own fields, its variable declarations, and its workflow against those variables. */
export function validateTemplate(doc: unknown): ValidationResult {
  const shapeErrors = checkTemplateShape(doc) ? [] : formatAjvErrors(checkTemplateShape.errors);
  const template = doc as Partial<TemplateDefinition> | null;
  if (!template || typeof template !== 'object' || !template.workflow || typeof template.workflow !== 'object') {
    return { errors: shapeErrors };
  }
  const errors = [...shapeErrors];
  const names = new Set<string>();
  (Array.isArray(template.variables) ? template.variables : []).forEach((v, i) => {
    if (!v || typeof v.name !== 'string') return;
    const pointer = `/variables/${i}`;
    if (names.has(v.name)) errors.push({ pointer: `${pointer}/name`, message: `duplicate variable '${v.name}'` });
    names.add(v.name);
    // An unknown type was reported by the shape check; there is nothing to compare the default with.
    const typed = v.type === undefined || (VARIABLE_TYPES as readonly unknown[]).includes(v.type);
    if (v.default !== undefined && typed && !coerce(v.default, v.type).ok) {
      errors.push({ pointer: `${pointer}/default`, message: `default does not match type '${v.type}'` });
    }
  });
  const workflowResult = Array.isArray(template.workflow.tasks)
    ? checkSemantics(template.workflow as WorkflowDefinition, names, '/workflow')
    : { errors: [] };
  return mergeErrors(errors, workflowResult);
}

const stringList = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;

/** The task with `depends_on`, `on_success` and `on_failure` as lists of strings (or absent). */
function withEdgeLists(task: TaskDefinition): TaskDefinition {
  return {
    ...task,
    depends_on: stringList(task.depends_on),
    on_success: stringList(task.on_success),
    on_failure: stringList(task.on_failure),
  };
}

function mergeErrors(first: ErrorDetail[], result: ValidationResult): ValidationResult {
  const seen = new Set(first.map((e) => `${e.pointer}\u0000${e.message}`));
  const extra = result.errors.filter((e) => !seen.has(`${e.pointer}\u0000${e.message}`));
  return { errors: [...first, ...extra], dag: result.dag, reads: result.reads };
}

/** The rules that look across a workflow's tasks: ids, names, types, edges, the graph, expressions, retries. */
function checkSemantics(workflow: WorkflowDefinition, inputs: Set<string>, base: string): ValidationResult {
  const errors: ErrorDetail[] = [];
  const tasks = workflow.tasks.filter(
    (t): t is TaskDefinition => !!t && typeof t === 'object' && typeof t.id === 'string',
  );
  const at = (i: number, ...path: (string | number)[]) =>
    path.reduce<string>((p, s) => pointerJoin(p, s), `${base}/tasks/${i}`);
  const indexOf = uniqueIds(workflow, at, errors);
  const variableNames = new Set([...inputs, ...Object.keys(workflow.variables ?? {})]);
  for (const name of variableNames) {
    if (indexOf.has(name))
      errors.push({
        pointer: `${base}/variables`,
        message: `variable '${name}' has the same name as a task; rename one`,
      });
  }
  workflow.tasks.forEach((task, i) => {
    if (!task || typeof task !== 'object' || typeof task.id !== 'string') return;
    errors.push(...checkType(task, (...path) => at(i, ...path)));
    errors.push(...checkEdges(task, indexOf, (...path) => at(i, ...path)));
  });
  // Edge lists of the wrong type were reported by the shape check; the graph is analysed without them.
  const unique = tasks.filter((t) => indexOf.get(t.id) === workflow.tasks.indexOf(t)).map(withEdgeLists);
  const dag = analyzeDag(unique);
  if (dag.cycle) errors.push({ pointer: `${base}/tasks`, message: `dependency cycle: ${dag.cycle.join(' -> ')}` });
  checkExpressions(workflow.variables ?? {}, `${base}/variables`, errors, (root) =>
    inputs.has(root) ? undefined : `unknown variable '${root}' (workflow variables may use only the template's inputs)`,
  );
  const reads = new Map<string, string[]>();
  workflow.tasks.forEach((task, i) => {
    if (!task || typeof task.id !== 'string' || indexOf.get(task.id) !== i) return;
    const read = new Set<string>();
    checkTaskExpressions(task, { task, indexOf, variableNames, dag, read }, errors, (...path) => at(i, ...path));
    reads.set(task.id, [...read]);
    errors.push(...checkRetry(task, (...path) => at(i, ...path)));
  });
  if (dag.cycle || indexOf.size < workflow.tasks.length) return { errors };
  return { errors, dag, reads };
}

type Pointer = (...path: (string | number)[]) => string;

/** Task id -> index of its first use; later uses are reported as duplicates. */
function uniqueIds(workflow: WorkflowDefinition, at: (i: number, ...path: string[]) => string, errors: ErrorDetail[]) {
  const indexOf = new Map<string, number>();
  workflow.tasks.forEach((t, i) => {
    if (!t || typeof t.id !== 'string') return;
    if (indexOf.has(t.id))
      errors.push({
        pointer: at(i, 'id'),
        message: `duplicate task id '${t.id}' (first used by /tasks/${indexOf.get(t.id)})`,
      });
    else indexOf.set(t.id, i);
  });
  return indexOf;
}

/** The type is in the catalog, the parameters fit its schema, and the type's own rules hold. */
function checkType(task: TaskDefinition, at: Pointer): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const type = typeof task.type === 'string' ? taskTypeOf(task.type) : undefined;
  if (!type) {
    if (typeof task.type === 'string') {
      errors.push({
        pointer: at('type'),
        message: `unknown task type '${task.type}'; known types: ${TASK_TYPES.join(', ')}`,
      });
    }
    return errors;
  }
  const check = parameterChecker(type.name);
  if (!check(task.parameters ?? {})) errors.push(...formatAjvErrors(check.errors, at('parameters')));
  errors.push(...(type.validate?.(task, at) ?? []));
  return errors;
}

/** Branches only on types that have them; every edge names another task that exists. */
function checkEdges(task: TaskDefinition, indexOf: ReadonlyMap<string, number>, at: Pointer): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const branches = typeof task.type === 'string' && taskTypeOf(task.type)?.branches === true;
  for (const field of ['on_success', 'on_failure'] as const) {
    if (task[field] && !branches) errors.push({ pointer: at(field), message: `only 'condition' tasks have ${field}` });
  }
  for (const field of ['depends_on', 'on_success', 'on_failure'] as const) {
    (Array.isArray(task[field]) ? task[field] : []).forEach((target, j) => {
      if (target === task.id)
        errors.push({ pointer: at(field, j), message: `task '${task.id}' cannot depend on itself` });
      else if (typeof target === 'string' && !indexOf.has(target)) {
        errors.push({ pointer: at(field, j), message: `unknown task '${target}'` });
      }
    });
  }
  return errors;
}

/** Each expression must parse, and each name must be allowed (`allowed` says why not). */
function checkExpressions(
  value: unknown,
  pointer: string,
  errors: ErrorDetail[],
  allowed: (root: string, path: (string | number)[]) => string | undefined,
): void {
  for (const { pointer: where, source } of collectExpressions(value, pointer)) {
    try {
      for (const ref of expressionReferences(source)) {
        const problem = allowed(ref.root, ref.path);
        if (problem) errors.push({ pointer: where, message: problem });
      }
    } catch (error) {
      errors.push({ pointer: where, message: (error as Error).message });
    }
  }
}

interface ReadContext {
  task: TaskDefinition;
  indexOf: ReadonlyMap<string, number>;
  variableNames: ReadonlySet<string>;
  dag: DagAnalysis;
  /** Collects the other tasks the expressions read. */
  read: Set<string>;
}

/** A task's expressions read variables, or `.output`/`.status`/`.error` of tasks it depends on. */
function checkTaskExpressions(task: TaskDefinition, reads: ReadContext, errors: ErrorDetail[], at: Pointer): void {
  const taskRef = (extra: ReadonlySet<string>) => (root: string, path: (string | number)[]) =>
    readProblem(root, path, extra, reads);
  const none = new Set<string>();
  const params = task.parameters ?? {};
  const scopes = typeof task.type === 'string' ? taskTypeOf(task.type)?.expressionScopes : undefined;
  if (scopes && params && typeof params === 'object') {
    const own = scopes(params);
    const rest = Object.fromEntries(Object.entries(params).filter(([key]) => !own.some((s) => s.path[0] === key)));
    checkExpressions(rest, at('parameters'), errors, taskRef(none));
    for (const scope of own)
      checkExpressions(scope.value, at('parameters', ...scope.path), errors, taskRef(new Set(scope.names)));
  } else {
    checkExpressions(params, at('parameters'), errors, taskRef(none));
  }
  if (typeof task.condition === 'string') {
    checkExpressions(conditionExpression(task.condition), at('condition'), errors, taskRef(none));
  }
}

function readProblem(
  root: string,
  path: (string | number)[],
  extra: ReadonlySet<string>,
  { task, indexOf, variableNames, dag, read }: ReadContext,
): string | undefined {
  if (indexOf.has(root) && root !== task.id) read.add(root);
  if (extra.has(root) || variableNames.has(root)) return undefined;
  if (!indexOf.has(root)) return `unknown variable '${root}'`;
  if (root === task.id) return `task '${task.id}' cannot read its own output`;
  if (typeof path[0] !== 'string' || !TASK_FIELDS.has(path[0])) {
    return `'${root}' is a task: read ${'${'}${root}.output${'}'} (or .status, .error)`;
  }
  if (dag.cycle || dag.dependencies[task.id]?.includes(root) || dependsTransitively(task.id, root, dag.dependencies))
    return undefined;
  return `task '${task.id}' reads the output of '${root}' but does not depend on it; add '${root}' to depends_on`;
}

function checkRetry(task: TaskDefinition, at: Pointer): ErrorDetail[] {
  const retry = task.retry_policy;
  if (retry?.initial_delay === undefined || retry.max_delay === undefined) return [];
  const [from, to] = [tryParseDuration(retry.initial_delay), tryParseDuration(retry.max_delay)];
  if (from !== undefined && to !== undefined && to < from) {
    return [{ pointer: at('retry_policy', 'max_delay'), message: 'max_delay must not be shorter than initial_delay' }];
  }
  return [];
}
