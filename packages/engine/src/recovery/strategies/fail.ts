import type { RecoveryStrategyModule } from '../recovery-strategy';

/** Fails the run, naming what was orphaned. */
export const fail: RecoveryStrategyModule = {
  action: 'failed',
  async recover({ def, parent, reason }, { ctx, kernel, note }) {
    const id = def.executionId;
    await ctx.store.setMeta(id, { status: 'failing', error: `orphaned: ${reason}` });
    await note(id, 'failed', reason);
    if (parent) await parent.remove().catch(() => undefined);
    await kernel.endRun(id);
  },
};
