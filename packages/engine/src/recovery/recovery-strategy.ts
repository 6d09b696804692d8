import type { RecoveryStrategy as StrategyName } from '@orch/core';
import type { RecoveryAction } from '@orch/run-model';
import type { Job } from 'bullmq';
import type { EngineContext } from '../engine-context';
import type { ExecutionDefinition } from '../execution-definition';
import type { RunKernel } from '../run-kernel';

/** An orphaned run: work that no job will ever do. */
export interface Orphan {
  def: ExecutionDefinition;
  /** Its workflow job, when it still has one. */
  parent: Job | undefined;
  /** Ready tasks that have no job. */
  missing: string[];
  /** Why it counts as orphaned, for the event and the log. */
  reason: string;
}

/** What a strategy may use: the run kernel, the store, and a way to note its action on the run. */
export interface RecoveryTools {
  ctx: EngineContext;
  kernel: RunKernel;
  note(id: string, action: RecoveryAction, reason: string): Promise<void>;
}

/** One way to repair an orphaned run (`recovery.strategy` of a workflow, or RECOVERY_STRATEGY). */
export interface RecoveryStrategyModule {
  /** What the recovery report and counters call a run this strategy repaired. */
  action: RecoveryAction;
  recover(orphan: Orphan, tools: RecoveryTools): Promise<void>;
}

/** One module per strategy name: a name in core's RECOVERY_STRATEGIES does not compile until it has one. */
export type RecoveryStrategies = { readonly [K in StrategyName]: RecoveryStrategyModule };
