import type { ErrorDetail } from '@orch/errors';
import { collectExpressions, expressionReferences } from '@orch/expressions';
import { ajv, formatAjvErrors } from './ajv';
import { type DagAnalysis, dependsTransitively } from './analyze-dag';
import { tryParseDuration } from './duration';
import { schemaWithExpressions } from './task-catalog';
import { conditionExpression, knownTaskTypes, type NestedValidation, taskTypeOf } from './task-types';
import type { TaskDefinition } from './workflow';

/** The checks of one task that the validator applies to the workflow's tasks and to its exit handlers alike. */

export type Pointer = (...path: (string | number)[]) => string;

/** By schema object: a type an SDK worker registers again with another schema gets a new one. */
const parameterCheckers = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** The submit-time check of a type's parameters (any value may still be a `${...}` expression), compiled once. */
function parameterChecker(schema: object): ReturnType<typeof ajv.compile> {
  let check = parameterCheckers.get(schema);
  if (!check) {
    check = ajv.compile(schemaWithExpressions(schema as Record<string, unknown>));
    parameterCheckers.set(schema, check);
  }
  return check;
}

/** What a task may read, besides workflow variables: `${id.output}`, `${id.status}`, `${id.error}`. */
export const TASK_FIELDS = new Set(['output', 'status', 'error']);

/** The type is in the catalog, the parameters fit its schema, and the type's own rules hold. */
export function checkType(task: TaskDefinition, at: Pointer, nested: NestedValidation): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const type = typeof task.type === 'string' ? taskTypeOf(task.type) : undefined;
  if (!type) {
    if (typeof task.type === 'string') {
      errors.push({
        pointer: at('type'),
        message: `unknown task type '${task.type}'; known types: ${knownTaskTypes().join(', ')}`,
      });
    }
    return errors;
  }
  let check: ReturnType<typeof ajv.compile>;
  try {
    check = parameterChecker(type.schema);
  } catch (error) {
    errors.push({
      pointer: at('type'),
      message: `task type '${type.name}' has an invalid schema: ${(error as Error).message}`,
    });
    return errors;
  }
  if (!check(task.parameters ?? {})) errors.push(...formatAjvErrors(check.errors, at('parameters')));
  errors.push(...(type.validate?.(task, at, nested) ?? []));
  return errors;
}

/**
 * Branches only on types that have them; every edge names another task of the same list that exists. `other` are
 * the ids of the other list (the exit handlers for a task, the tasks for an exit handler), named in the message.
 */
export function checkEdges(
  task: TaskDefinition,
  indexOf: ReadonlyMap<string, number>,
  other: { ids: ReadonlyMap<string, number>; message: (target: string) => string },
  at: Pointer,
): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const branches = typeof task.type === 'string' && taskTypeOf(task.type)?.branches === true;
  for (const field of ['on_success', 'on_failure'] as const) {
    if (task[field] && !branches) errors.push({ pointer: at(field), message: `only 'condition' tasks have ${field}` });
  }
  for (const field of ['depends_on', 'on_success', 'on_failure'] as const) {
    (Array.isArray(task[field]) ? task[field] : []).forEach((target, j) => {
      if (target === task.id)
        errors.push({ pointer: at(field, j), message: `task '${task.id}' cannot depend on itself` });
      else if (typeof target === 'string' && other.ids.has(target))
        errors.push({ pointer: at(field, j), message: other.message(target) });
      else if (typeof target === 'string' && !indexOf.has(target)) {
        errors.push({ pointer: at(field, j), message: `unknown task '${target}'` });
      }
    });
  }
  return errors;
}

/** Each expression must parse, and each name must be allowed (`allowed` says why not). */
export function checkExpressions(
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

export interface ReadContext {
  task: TaskDefinition;
  /** The tasks of the task's own list (it must depend on those it reads). */
  indexOf: ReadonlyMap<string, number>;
  /** Tasks that have all ended before this list runs (the workflow's tasks, for an exit handler): readable as is. */
  ended: ReadonlyMap<string, number>;
  /** Variables, and names the list has in scope (`workflow` for exit handlers). */
  variableNames: ReadonlySet<string>;
  dag: DagAnalysis;
  /** Collects the other tasks the expressions read. */
  read: Set<string>;
}

/**
 * A task's expressions read variables, or `.output`/`.status`/`.error` of tasks it depends on. Parameters that are a
 * scope of their own (an inline child workflow's definition) are not the parent's to check.
 */
export function checkTaskExpressions(
  task: TaskDefinition,
  reads: ReadContext,
  errors: ErrorDetail[],
  at: Pointer,
): void {
  const taskRef = (extra: ReadonlySet<string>) => (root: string, path: (string | number)[]) =>
    readProblem(root, path, extra, reads);
  const none = new Set<string>();
  const type = typeof task.type === 'string' ? taskTypeOf(task.type) : undefined;
  const literal = new Set(type?.literalParameters ?? []);
  const params = Object.fromEntries(Object.entries(task.parameters ?? {}).filter(([key]) => !literal.has(key)));
  const own = type?.expressionScopes?.(params) ?? [];
  const rest = Object.fromEntries(Object.entries(params).filter(([key]) => !own.some((s) => s.path[0] === key)));
  checkExpressions(rest, at('parameters'), errors, taskRef(none));
  for (const scope of own)
    checkExpressions(scope.value, at('parameters', ...scope.path), errors, taskRef(new Set(scope.names)));
  if (typeof task.condition === 'string') {
    checkExpressions(conditionExpression(task.condition), at('condition'), errors, taskRef(none));
  }
}

function readProblem(
  root: string,
  path: (string | number)[],
  extra: ReadonlySet<string>,
  { task, indexOf, ended, variableNames, dag, read }: ReadContext,
): string | undefined {
  if ((indexOf.has(root) && root !== task.id) || ended.has(root)) read.add(root);
  if (extra.has(root) || variableNames.has(root)) return undefined;
  if (!indexOf.has(root) && !ended.has(root)) return `unknown variable '${root}'`;
  if (root === task.id) return `task '${task.id}' cannot read its own output`;
  if (typeof path[0] !== 'string' || !TASK_FIELDS.has(path[0])) {
    return `'${root}' is a task: read ${'${'}${root}.output${'}'} (or .status, .error)`;
  }
  if (ended.has(root)) return undefined;
  if (dag.cycle || dag.dependencies[task.id]?.includes(root) || dependsTransitively(task.id, root, dag.dependencies))
    return undefined;
  return `task '${task.id}' reads the output of '${root}' but does not depend on it; add '${root}' to depends_on`;
}

export function checkRetry(task: TaskDefinition, at: Pointer): ErrorDetail[] {
  const retry = task.retry_policy;
  if (retry?.initial_delay === undefined || retry.max_delay === undefined) return [];
  const [from, to] = [tryParseDuration(retry.initial_delay), tryParseDuration(retry.max_delay)];
  if (from !== undefined && to !== undefined && to < from) {
    return [{ pointer: at('retry_policy', 'max_delay'), message: 'max_delay must not be shorter than initial_delay' }];
  }
  return [];
}
