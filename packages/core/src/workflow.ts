import type { FromSchema } from 'json-schema-to-ts';
import type { Duration } from './duration';
import type { TaskType } from './task-catalog';
import type { retryPolicySchema, taskSchema, templateSchema, variableSchema, workflowSchema } from './workflow-schema';

export { RECOVERY_STRATEGIES, TRIGGER_RULES, VARIABLE_TYPES } from './workflow-schema';

/**
 * The documents users write, typed from their JSON Schemas (workflow-schema.ts), so the two cannot drift. The field
 * names follow the reference's YAML (snake_case), since templates and API bodies are the contract. Two fields are
 * narrower than their schema says: a task's `type` (the validator checks it against the task catalog, with its own
 * message) and `parameters` (checked against the type's schema).
 */
export type BackoffType = 'fixed' | 'exponential';

export type RetryPolicy = FromSchema<typeof retryPolicySchema>;

export type TriggerRule = NonNullable<FromSchema<typeof taskSchema>['trigger_rule']>;

export type TaskDefinition = Omit<FromSchema<typeof taskSchema>, 'type' | 'parameters'> & {
  type: TaskType;
  parameters?: Record<string, unknown>;
};

export type RecoveryStrategy = NonNullable<NonNullable<FromSchema<typeof workflowSchema>['recovery']>['strategy']>;

export type WorkflowDefinition = Omit<FromSchema<typeof workflowSchema>, 'tasks' | 'variables' | 'on_exit'> & {
  /** Values (or expressions over the template's inputs) visible to every task by name. */
  variables?: Record<string, unknown>;
  tasks: TaskDefinition[];
  /** Exit handlers: run once the tasks have ended, whatever the outcome, with `${workflow.status}` in scope. */
  on_exit?: TaskDefinition[];
};

export type VariableType = NonNullable<FromSchema<typeof variableSchema>['type']>;

export type VariableDefinition = FromSchema<typeof variableSchema>;

export type TemplateDefinition = Omit<FromSchema<typeof templateSchema>, 'workflow'> & {
  workflow: WorkflowDefinition;
};

/** A sub-task inside a `parallel` task. */
export interface SubTaskDefinition {
  id?: string;
  type: TaskType;
  parameters?: Record<string, unknown>;
  timeout?: Duration;
}
