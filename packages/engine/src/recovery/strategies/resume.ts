import type { RecoveryStrategyModule } from '../recovery-strategy';

/** Adds jobs for the ready tasks that have none (and the workflow job, when it is missing); keeps all progress. */
export const resume: RecoveryStrategyModule = {
  action: 'resumed',
  async recover({ def, parent, missing, reason }, { kernel, note }) {
    await note(def.executionId, 'resumed', reason);
    if (parent) await kernel.release(def, missing);
    else await kernel.startJobs(def, missing);
  },
};
