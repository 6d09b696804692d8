import type { TaskType } from '@orch/core';
import type { TaskHandler } from './task-handler';

/**
 * Task types the engine runs itself, because they shape the job graph: `delay`, `approval` and `workflow` park their
 * job as a BullMQ delayed job (until a timer, a decision, or the child run's end wakes it), and `parallel` adds its
 * sub-tasks as child jobs. Every other type in the catalog needs a handler.
 */
export const CONTROL_FLOW_TYPES = ['delay', 'parallel', 'approval', 'workflow'] as const;
export type ControlFlowType = (typeof CONTROL_FLOW_TYPES)[number];
export type HandledTaskType = Exclude<TaskType, ControlFlowType>;

/** One handler per handled task type: the worker does not compile while a catalog type lacks one. */
export type TaskHandlers = { readonly [K in HandledTaskType]: TaskHandler };

export function isControlFlow(type: TaskType): type is ControlFlowType {
  return (CONTROL_FLOW_TYPES as readonly string[]).includes(type);
}

/** Handlers with no side effects, which every worker has. */
export const builtinHandlers: Pick<TaskHandlers, 'transform' | 'condition'> = {
  /** The output is `parameters.output`, already evaluated. */
  transform: async (parameters) => parameters.output,
  /** The engine evaluates the task's `condition` into `parameters.condition`; dependents follow `result`. */
  condition: async (parameters) => ({ result: Boolean(parameters.condition), value: parameters.condition }),
};
