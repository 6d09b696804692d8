import type { SkipReason } from '@orch/run-model';
import type { TriggerRule } from './workflow';

/** How one dependency's end looks to a dependent. */
export type EdgeOutcome = 'success' | 'failed' | 'skipped';

export type TriggerDecision = 'run' | 'skipped' | 'upstream_failed';

/**
 * Applies a trigger rule once every dependency has finished; no dependencies means run. Shared by the engine and
 * the generator's dry run, so a simulation branches exactly as a real run would.
 */
export function applyTriggerRule(rule: TriggerRule | undefined, outcomes: readonly EdgeOutcome[]): TriggerDecision {
  if (outcomes.length === 0) return 'run';
  const failed = outcomes.includes('failed');
  const succeeded = outcomes.includes('success');
  switch (rule ?? 'none_failed_min_one_success') {
    case 'all_success':
      return outcomes.every((o) => o === 'success') ? 'run' : failed ? 'upstream_failed' : 'skipped';
    case 'all_done':
      return 'run';
    case 'one_success':
      return succeeded ? 'run' : failed ? 'upstream_failed' : 'skipped';
    case 'none_failed':
      return failed ? 'upstream_failed' : 'run';
    case 'none_failed_min_one_success':
      return failed ? 'upstream_failed' : succeeded ? 'run' : 'skipped';
  }
}

/**
 * What one dependency's end means for a dependent: the engine's and the dry run's one implementation. A condition
 * dependency whose branch does not include the task counts as skipped; a failure of a `continue_on_failure` task
 * counts as success, since it lets dependents run.
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

/**
 * Why a task the trigger rule skipped did not run: `branch not taken` when a condition dependency went the other way
 * (Argo's skipped), otherwise `upstream skipped` (its dependencies were skipped: Argo's omitted).
 */
export function skipReasonOf(
  edges: readonly { status: string; branch?: 'on_success' | 'on_failure'; outcome: EdgeOutcome }[],
): SkipReason {
  const notTaken = edges.some((e) => e.outcome === 'skipped' && e.status === 'completed' && e.branch !== undefined);
  return notTaken ? 'branch not taken' : 'upstream skipped';
}
