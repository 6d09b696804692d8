import type { Duration } from './duration';
import type { TaskType } from './task-catalog';

/** The field names follow the reference's YAML (snake_case), since templates and API bodies are the contract. */
export type BackoffType = 'fixed' | 'exponential';

export interface RetryPolicy {
  max_retries: number;
  backoff_type?: BackoffType;
  initial_delay?: Duration;
  max_delay?: Duration;
  /** 0..1: each delay is reduced by up to this fraction, at random, so retries of many tasks spread out. */
  jitter?: number;
}

/**
 * When a task with dependencies runs. The default, `none_failed_min_one_success`, runs it when no dependency failed
 * and at least one succeeded, so a join after a condition runs whichever branch was taken.
 */
export const TRIGGER_RULES = [
  'all_success',
  'all_done',
  'one_success',
  'none_failed',
  'none_failed_min_one_success',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export interface TaskDefinition {
  id: string;
  name?: string;
  type: TaskType;
  description?: string;
  depends_on?: string[];
  parameters?: Record<string, unknown>;
  retry_policy?: RetryPolicy;
  timeout?: Duration;
  /** `condition` tasks: an expression such as `${score > 0.8}`. */
  condition?: string;
  /** `condition` tasks: tasks that run when the condition is true; they depend on this task implicitly. */
  on_success?: string[];
  /** `condition` tasks: tasks that run when the condition is false; they depend on this task implicitly. */
  on_failure?: string[];
  /** A failure of this task does not fail the workflow, and its dependents still run. */
  continue_on_failure?: boolean;
  trigger_rule?: TriggerRule;
}

export const RECOVERY_STRATEGIES = ['resume', 'restart', 'fail'] as const;
export type RecoveryStrategy = (typeof RECOVERY_STRATEGIES)[number];

export interface WorkflowDefinition {
  id: string;
  name?: string;
  description?: string;
  timeout?: Duration;
  /** Values (or expressions over the template's inputs) visible to every task by name. */
  variables?: Record<string, unknown>;
  tasks: TaskDefinition[];
  /** Default true: the first failed task stops the run. */
  fail_fast?: boolean;
  recovery?: { strategy?: RecoveryStrategy };
}

export const VARIABLE_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface VariableDefinition {
  name: string;
  type?: VariableType;
  description?: string;
  required?: boolean;
  default?: unknown;
}

export interface TemplateDefinition {
  id: string;
  name: string;
  description?: string;
  category?: string;
  version?: string;
  variables?: VariableDefinition[];
  workflow: WorkflowDefinition;
  /** Run this template on a cron schedule (the workers create it at start, id `template.<id>`). */
  schedule?: { cron: string; timezone?: string; variables?: Record<string, unknown>; overlap?: 'skip' | 'allow' };
}

/** A sub-task inside a `parallel` task. */
export interface SubTaskDefinition {
  id?: string;
  type: TaskType;
  parameters?: Record<string, unknown>;
  timeout?: Duration;
}
