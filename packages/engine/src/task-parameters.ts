import { ajv, formatAjvErrors, type TASK_CATALOG, type TaskType, taskTypeOf } from '@orch/core';
import { ValidationError } from '@orch/errors';
import { UnrecoverableError } from 'bullmq';

/** By schema object, so an SDK type registered again with another schema is checked against the new one. */
const checkers = new WeakMap<object, ReturnType<typeof ajv.compile>>();
export function checkParameters(type: string, params: unknown, task: string): void {
  const schema = taskTypeOf(type)?.schema;
  if (!schema) throw new UnrecoverableError(`task ${task}: this worker does not know task type '${type}'`);
  let check = checkers.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    checkers.set(schema, check);
  }
  if (!check(params)) {
    const details = formatAjvErrors(check.errors, '/parameters');
    throw new ValidationError(
      `task ${task}: parameters are invalid after evaluation: ${details.map((d) => `${d.pointer} ${d.message}`).join('; ')}`,
      details,
    );
  }
}

/** A built-in type's module, or an SDK type's this worker registered; one it does not know fails for good. */
export function moduleOf(type: TaskType): (typeof TASK_CATALOG)[TaskType] {
  const module = taskTypeOf(type);
  if (!module)
    throw new UnrecoverableError(`this worker does not know task type '${type}' (is it on the right queue?)`);
  return module as unknown as (typeof TASK_CATALOG)[TaskType];
}
