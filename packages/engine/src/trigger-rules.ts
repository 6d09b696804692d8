import { applyTriggerRule, type EdgeOutcome, edgeOutcome, skipReasonOf, type TriggerDecision } from '@orch/core';
import type { CompiledTask } from './execution-definition';

export type { EdgeOutcome };
export { edgeOutcome, skipReasonOf };
export type Decision = TriggerDecision;

/** Applies the task's trigger rule once every dependency has finished. Roots always run. */
export function decide(task: Pick<CompiledTask, 'rule' | 'deps'>, outcomes: EdgeOutcome[]): Decision {
  return task.deps.length === 0 ? 'run' : applyTriggerRule(task.rule, outcomes);
}
