import type { CompiledTask } from './execution-definition';

/** How a dependency's outcome looks to one dependent. */
export type EdgeOutcome = 'success' | 'failed' | 'skipped';

export type Decision = 'run' | 'skipped' | 'upstream_failed';

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
  if (task.deps.length === 0) return 'run';
  const failed = outcomes.includes('failed');
  const succeeded = outcomes.includes('success');
  switch (task.rule) {
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
