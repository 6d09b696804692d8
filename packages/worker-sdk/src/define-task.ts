import { ajv, EXTERNAL_TYPE_NAME, isTaskType } from '@orch/core';
import type { TaskContext } from './task-context';

/** JSON Schema, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** One task type of yours: its name in workflows (`type: <name>`), its parameter schema and its handler. */
export interface TaskDefinition<P = Record<string, unknown>, O = unknown> {
  /** Lowercase letters, digits, - and _; never a built-in type's name. */
  name: string;
  description?: string;
  /** JSON Schema of `parameters`; the API refuses a workflow whose parameters break it, with a JSON pointer. */
  parameters: JsonSchema;
  /** JSON Schema of what the handler returns; a result that breaks it fails the task. */
  output?: JsonSchema;
  /** The task queue its tasks go to (default: the worker's `queue`, else the type's own name). */
  queue?: string;
  /** Runs one attempt; the resolved value is the task's output. Throw PermanentTaskError for what a retry cannot fix. */
  handler: (params: P, ctx: TaskContext) => Promise<O> | O;
}

/** Checks and returns a task type; a bad name or schema throws here, at start, not when a task runs. */
export function defineTask<P = Record<string, unknown>, O = unknown>(task: TaskDefinition<P, O>): TaskDefinition<P, O> {
  if (!EXTERNAL_TYPE_NAME.test(task.name))
    throw new TypeError(`task type name ${JSON.stringify(task.name)} must match ${EXTERNAL_TYPE_NAME.source}`);
  if (isTaskType(task.name)) throw new TypeError(`'${task.name}' is a built-in task type; pick another name`);
  if (typeof task.handler !== 'function') throw new TypeError(`task type '${task.name}' needs a handler function`);
  for (const [what, schema] of [
    ['parameters', task.parameters],
    ['output', task.output],
  ] as const) {
    if (schema === undefined && what === 'output') continue;
    try {
      ajv.compile(schema as JsonSchema);
    } catch (error) {
      throw new TypeError(`task type '${task.name}': ${what} is not a valid JSON Schema: ${(error as Error).message}`);
    }
  }
  return task;
}
