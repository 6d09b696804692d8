import type { ErrorDetail } from '@orch/errors';
import { collectExpressions, expressionReferences } from '@orch/expressions';
import { ajv, formatAjvErrors, pointerJoin } from './ajv';
import { analyzeDag, type DagAnalysis, dependsTransitively } from './analyze-dag';
import { tryParseDuration } from './duration';
import { isTaskType, SUB_TASK_TYPES, schemaWithExpressions, TASK_CATALOG, TASK_TYPES } from './task-catalog';
import { coerce } from './variables';
import { type TaskDefinition, type TemplateDefinition, VARIABLE_TYPES, type WorkflowDefinition } from './workflow';
import { templateSchema, workflowSchema } from './workflow-schema';

export interface ValidationResult {
  errors: ErrorDetail[];
  /** Present when the task graph could be analysed (no cycle, ids unique). */
  dag?: DagAnalysis;
}

const checkWorkflowShape = ajv.compile(workflowSchema);
const checkTemplateShape = ajv.compile(templateSchema);
const checkParameters = Object.fromEntries(
  TASK_TYPES.map((type) => [type, ajv.compile(schemaWithExpressions(TASK_CATALOG[type].schema))]),
) as Record<keyof typeof TASK_CATALOG, ReturnType<typeof ajv.compile>>;

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
  return { errors: [...first, ...extra], dag: result.dag };
}

function checkSemantics(workflow: WorkflowDefinition, inputs: Set<string>, base: string): ValidationResult {
  const errors: ErrorDetail[] = [];
  const tasks = workflow.tasks.filter(
    (t): t is TaskDefinition => !!t && typeof t === 'object' && typeof t.id === 'string',
  );
  const at = (i: number, ...path: (string | number)[]) =>
    path.reduce<string>((p, s) => pointerJoin(p, s), `${base}/tasks/${i}`);
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
    if (!isTaskType(task.type)) {
      if (typeof task.type === 'string') {
        errors.push({
          pointer: at(i, 'type'),
          message: `unknown task type '${task.type}'; known types: ${TASK_TYPES.join(', ')}`,
        });
      }
    } else {
      const check = checkParameters[task.type];
      if (!check(task.parameters ?? {})) errors.push(...formatAjvErrors(check.errors, at(i, 'parameters')));
      if (task.type === 'condition' && task.condition === undefined) {
        errors.push({
          pointer: at(i, 'condition'),
          message: 'is required for a \'condition\' task, for example "${score > 0.8}"',
        });
      }
    }
    for (const field of ['on_success', 'on_failure'] as const) {
      if (task[field] && task.type !== 'condition') {
        errors.push({ pointer: at(i, field), message: `only 'condition' tasks have ${field}` });
      }
    }
    for (const field of ['depends_on', 'on_success', 'on_failure'] as const) {
      (Array.isArray(task[field]) ? task[field] : []).forEach((target, j) => {
        if (target === task.id)
          errors.push({ pointer: at(i, field, j), message: `task '${task.id}' cannot depend on itself` });
        else if (typeof target === 'string' && !indexOf.has(target)) {
          errors.push({ pointer: at(i, field, j), message: `unknown task '${target}'` });
        }
      });
    }
  });

  // Edge lists of the wrong type were reported by the shape check; the graph is analysed without them.
  const unique = tasks.filter((t) => indexOf.get(t.id) === workflow.tasks.indexOf(t)).map(withEdgeLists);
  const dag = analyzeDag(unique);
  if (dag.cycle) {
    errors.push({ pointer: `${base}/tasks`, message: `dependency cycle: ${dag.cycle.join(' -> ')}` });
  }

  // Expressions: each must parse, and each name must be a variable or a task this task depends on.
  const checkExpressions = (
    value: unknown,
    pointer: string,
    allowed: (root: string, path: (string | number)[], at: string) => string | undefined,
  ) => {
    for (const { pointer: where, source } of collectExpressions(value, pointer)) {
      try {
        for (const ref of expressionReferences(source)) {
          const problem = allowed(ref.root, ref.path, where);
          if (problem) errors.push({ pointer: where, message: problem });
        }
      } catch (error) {
        errors.push({ pointer: where, message: (error as Error).message });
      }
    }
  };

  checkExpressions(workflow.variables ?? {}, `${base}/variables`, (root) =>
    inputs.has(root) ? undefined : `unknown variable '${root}' (workflow variables may use only the template's inputs)`,
  );

  workflow.tasks.forEach((task, i) => {
    if (!task || typeof task.id !== 'string' || indexOf.get(task.id) !== i) return;
    const taskRef = (root: string, path: (string | number)[], extra: Set<string>) => {
      if (extra.has(root) || variableNames.has(root)) return undefined;
      if (!indexOf.has(root)) return `unknown variable '${root}'`;
      if (root === task.id) return `task '${task.id}' cannot read its own output`;
      if (typeof path[0] !== 'string' || !TASK_FIELDS.has(path[0])) {
        return `'${root}' is a task: read ${'${'}${root}.output${'}'} (or .status, .error)`;
      }
      if (
        dag.cycle ||
        dag.dependencies[task.id]?.includes(root) ||
        dependsTransitively(task.id, root, dag.dependencies)
      )
        return undefined;
      return `task '${task.id}' reads the output of '${root}' but does not depend on it; add '${root}' to depends_on`;
    };
    const none = new Set<string>();
    const params = task.parameters ?? {};
    if (task.type === 'parallel' && params && typeof params === 'object') {
      const { tasks: subTasks, task: subTask, ...rest } = params as Record<string, unknown>;
      checkExpressions(rest, at(i, 'parameters'), (r, p) => taskRef(r, p, none));
      const perItem = new Set(['item', 'index']);
      checkExpressions(subTask, at(i, 'parameters', 'task'), (r, p) => taskRef(r, p, perItem));
      checkExpressions(subTasks, at(i, 'parameters', 'tasks'), (r, p) => taskRef(r, p, none));
      if (subTask && typeof subTask === 'object')
        checkSubTaskType((subTask as { type?: unknown }).type, at(i, 'parameters', 'task', 'type'));
    } else {
      checkExpressions(params, at(i, 'parameters'), (r, p) => taskRef(r, p, none));
    }
    if (typeof task.condition === 'string') {
      const source = task.condition.includes('${') ? task.condition : `\${${task.condition}}`;
      checkExpressions(source, at(i, 'condition'), (r, p) => taskRef(r, p, none));
    }
    const retry = task.retry_policy;
    if (retry?.initial_delay !== undefined && retry.max_delay !== undefined) {
      const [from, to] = [tryParseDuration(retry.initial_delay), tryParseDuration(retry.max_delay)];
      if (from !== undefined && to !== undefined && to < from) {
        errors.push({
          pointer: at(i, 'retry_policy', 'max_delay'),
          message: 'max_delay must not be shorter than initial_delay',
        });
      }
    }
  });

  function checkSubTaskType(type: unknown, pointer: string) {
    if (typeof type === 'string' && !(SUB_TASK_TYPES as readonly string[]).includes(type)) {
      errors.push({ pointer, message: `sub-tasks may be ${SUB_TASK_TYPES.join(', ')}; got '${type}'` });
    }
  }

  return { errors, dag: dag.cycle || indexOf.size < workflow.tasks.length ? undefined : dag };
}
