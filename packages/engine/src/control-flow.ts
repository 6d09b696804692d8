import {
  type ControlTaskType,
  type ServiceTaskType,
  TASK_CATALOG,
  TASK_TYPE_MODULES,
  type TaskHandler,
  type TaskParameters,
  type TaskType,
  taskTypeOf,
} from '@orch/core';

/**
 * Task types the engine runs itself, because they shape the job graph (their modules' `run.kind` is `control`):
 * `delay`, `approval` and `workflow` park their job as a BullMQ delayed job (until a timer, a decision, or the child
 * run's end wakes it), and `parallel` adds its sub-tasks as child jobs.
 */
export const CONTROL_FLOW_TYPES = (TASK_TYPE_MODULES as readonly { name: string; kind: string }[])
  .filter((m) => m.kind === 'control')
  .map((m) => m.name) as ControlTaskType[];
export type ControlFlowType = ControlTaskType;
/** Types run by a handler: the service types' come from the worker, the builtin types' from their modules. */
export type HandledTaskType = Exclude<TaskType, ControlFlowType>;

/** One handler per service task type, typed by its parameter schema: the worker does not compile without them. */
export type TaskHandlers = { readonly [K in ServiceTaskType]: TaskHandler<TaskParameters<K>> };

export function isControlFlow(type: TaskType): type is ControlFlowType {
  return taskTypeOf(type)?.kind === 'control'; // an SDK type (not in the catalog) is a service type
}

/** The builtin types' handlers (no side effects; the runner uses them whatever the worker passes). */
export const builtinHandlers = {
  transform: TASK_CATALOG.transform.run.handler,
  condition: TASK_CATALOG.condition.run.handler,
};
