import { applyTriggerRule, type EdgeOutcome, type TriggerDecision } from '@orch/core';
import type { CompiledTask } from './execution-definition';

export type { EdgeOutcome };
export type Decision = TriggerDecision;

/**
 * What one dependency's terminal status means for `task`. A condition dependency whose branch does not include the
 * task counts as skipped; a failure of a `continue_on_failure` task counts as success, since it lets dependents run.
 */
export function edgeOutcome(
  status: string,
  depFailsWorkflow: boolean,
  branch: 'on_success' | 'on_failure' | undefined,
  conditionResult: unknown,
): EdgeOutcome {
  if (status === 'completed') {
    if (branch === undefined) return 'success';
    const taken = branch === 'on_success' ? conditionResult === true : conditionResult === false;
    return taken ? 'success' : 'skipped';
  }
  if (status === 'failed') return depFailsWorkflow ? 'failed' : 'success';
  if (status === 'upstream_failed') return 'failed';
  return 'skipped';
}

/** Applies the task's trigger rule once every dependency has finished. Roots always run. */
export function decide(task: Pick<CompiledTask, 'rule' | 'deps'>, outcomes: EdgeOutcome[]): Decision {
  return task.deps.length === 0 ? 'run' : applyTriggerRule(task.rule, outcomes);
}
