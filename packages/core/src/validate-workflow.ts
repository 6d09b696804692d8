import type { ErrorDetail } from '@orch/errors';
import { ajv, formatAjvErrors, pointerJoin } from './ajv';
import { analyzeDag, type DagAnalysis } from './analyze-dag';
import {
  checkEdges,
  checkExpressions,
  checkRetry,
  checkTaskExpressions,
  checkType,
  type Pointer,
  type ReadContext,
} from './check-task';
import type { NestedValidation } from './task-types';
import { coerce } from './variables';
import { type TaskDefinition, type TemplateDefinition, VARIABLE_TYPES, type WorkflowDefinition } from './workflow';
import { checkWorkflowOutput } from './workflow-output';
import { templateSchema, workflowSchema } from './workflow-schema';

export interface ValidationResult {
  errors: ErrorDetail[];
  /** Present when the task graph could be analysed (no cycle, ids unique). */
  dag?: DagAnalysis;
  /** With `dag`, when the workflow has exit handlers: their own graph. */
  exitDag?: DagAnalysis;
  /** With `dag`: by task (exit handlers too), the tasks its expressions read (found while checking them). */
  reads?: Map<string, string[]>;
}

const checkWorkflowShape = ajv.compile(workflowSchema);
const checkTemplateShape = ajv.compile(templateSchema);

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
  return { ...result, errors: [...first, ...extra] };
}

/** One list of tasks: the workflow's `tasks`, or its exit handlers (`on_exit`). */
interface TaskList {
  tasks: TaskDefinition[];
  /** Pointer to a task of the list (`/tasks/3/...`). */
  at: (i: number, ...path: (string | number)[]) => string;
  /** Id -> index of its first use in this list. */
  indexOf: Map<string, number>;
}

const nested: NestedValidation = {
  workflow: (doc, inputs, base) => validateWorkflow(doc, { inputs, base }).errors,
};

/**
 * The rules that look across a workflow's tasks: ids, names, types, edges, the graph, expressions, retries. Exit
 * handlers are a second list: their ids are distinct from the tasks', their edges stay among themselves, and they
 * may read any task (all have ended when they run) and `${workflow.status}`, `.failures`, `.duration_ms`.
 */
function checkSemantics(workflow: WorkflowDefinition, inputs: Set<string>, base: string): ValidationResult {
  const errors: ErrorDetail[] = [];
  const list = (tasks: unknown, path: string): TaskList => ({
    tasks: Array.isArray(tasks) ? tasks : [],
    at: (i, ...rest) => rest.reduce<string>((p, s) => pointerJoin(p, s), `${base}/${path}/${i}`),
    indexOf: new Map(),
  });
  const main = list(workflow.tasks, 'tasks');
  const exit = list(workflow.on_exit, 'on_exit');
  uniqueIds([main, exit], errors);
  const variableNames = new Set([...inputs, ...Object.keys(workflow.variables ?? {})]);
  for (const name of variableNames) {
    if (main.indexOf.has(name) || exit.indexOf.has(name))
      errors.push({
        pointer: `${base}/variables`,
        message: `variable '${name}' has the same name as a task; rename one`,
      });
  }
  if (
    exit.tasks.length > 0 &&
    (variableNames.has('workflow') || main.indexOf.has('workflow') || exit.indexOf.has('workflow'))
  )
    errors.push({
      pointer: `${base}/on_exit`,
      message: "exit handlers read the run as ${workflow.status}: rename the variable or task named 'workflow'",
    });
  const toExit = (target: string) => `'${target}' is an exit handler (on_exit); tasks cannot depend on it`;
  const toMain = (target: string) =>
    `'${target}' is a task, not an exit handler: exit handlers run after every task, so read ${'${'}${target}.output${'}'} without depends_on`;
  checkList(main, { ids: exit.indexOf, message: toExit }, errors);
  checkList(exit, { ids: main.indexOf, message: toMain }, errors);
  const dag = graphOf(main, `${base}/tasks`, errors);
  const exitDag = exit.tasks.length > 0 ? graphOf(exit, `${base}/on_exit`, errors) : undefined;
  checkExpressions(workflow.variables ?? {}, `${base}/variables`, errors, (root) =>
    inputs.has(root) ? undefined : `unknown variable '${root}' (workflow variables may use only the template's inputs)`,
  );
  checkWorkflowOutput(workflow, { variables: variableNames, tasks: main.indexOf }, `${base}/output`, errors);
  const reads = new Map<string, string[]>();
  collectReads(main, { dag, ended: new Map(), variableNames }, reads, errors);
  if (exitDag) {
    const names = new Set([...variableNames, 'workflow']);
    collectReads(exit, { dag: exitDag, ended: main.indexOf, variableNames: names }, reads, errors);
  }
  const duplicates = main.indexOf.size + exit.indexOf.size < main.tasks.length + exit.tasks.length;
  if (dag.cycle || exitDag?.cycle || duplicates) return { errors };
  return { errors, dag, reads, ...(exitDag ? { exitDag } : {}) };
}

/** Each task's type and edges. */
function checkList(list: TaskList, other: Parameters<typeof checkEdges>[2], errors: ErrorDetail[]): void {
  list.tasks.forEach((task, i) => {
    if (!task || typeof task !== 'object' || typeof task.id !== 'string') return;
    errors.push(...checkType(task, (...path) => list.at(i, ...path), nested));
    errors.push(...checkEdges(task, list.indexOf, other, (...path) => list.at(i, ...path)));
  });
}

/** The list's graph (its first use of each id); a cycle is reported at `pointer`. */
function graphOf(list: TaskList, pointer: string, errors: ErrorDetail[]): DagAnalysis {
  // Edge lists of the wrong type were reported by the shape check; the graph is analysed without them.
  const unique = list.tasks
    .filter((t): t is TaskDefinition => !!t && typeof t === 'object' && typeof t.id === 'string')
    .filter((t) => list.indexOf.get(t.id) === list.tasks.indexOf(t))
    .map(withEdgeLists);
  const dag = analyzeDag(unique);
  if (dag.cycle) errors.push({ pointer, message: `dependency cycle: ${dag.cycle.join(' -> ')}` });
  return dag;
}

/** Checks every task's expressions and retry policy, collecting the tasks each one reads. */
function collectReads(
  list: TaskList,
  scope: Pick<ReadContext, 'dag' | 'ended' | 'variableNames'>,
  reads: Map<string, string[]>,
  errors: ErrorDetail[],
): void {
  list.tasks.forEach((task, i) => {
    if (!task || typeof task.id !== 'string' || list.indexOf.get(task.id) !== i) return;
    const read = new Set<string>();
    const at: Pointer = (...path) => list.at(i, ...path);
    checkTaskExpressions(task, { ...scope, task, indexOf: list.indexOf, read }, errors, at);
    reads.set(task.id, [...read]);
    errors.push(...checkRetry(task, at));
  });
}

/** Fills each list's id -> index of its first use; a later use, in either list, is reported as a duplicate. */
function uniqueIds(lists: TaskList[], errors: ErrorDetail[]): void {
  const first = new Map<string, string>();
  for (const list of lists) {
    list.tasks.forEach((t, i) => {
      if (!t || typeof t.id !== 'string') return;
      const where = first.get(t.id);
      if (where !== undefined)
        errors.push({ pointer: list.at(i, 'id'), message: `duplicate task id '${t.id}' (first used by ${where})` });
      else {
        first.set(t.id, list.at(i));
        list.indexOf.set(t.id, i);
      }
    });
  }
}
