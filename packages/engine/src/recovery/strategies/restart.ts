import { gateNames } from '../../concurrency-gates';
import type { RecoveryStrategyModule } from '../recovery-strategy';

/** Forgets every task's progress and starts the run again from its roots. */
export const restart: RecoveryStrategyModule = {
  action: 'restarted',
  async recover({ def, parent, reason }, { ctx, kernel, note }) {
    if (parent) await parent.remove().catch(() => undefined);
    await ctx.store.clearProgress(def.executionId);
    await ctx.store.resetRunHooks(def, gateNames(def));
    await ctx.store.resetWaits(def);
    await note(def.executionId, 'restarted', reason);
    await kernel.start(def, def.roots);
  },
};
