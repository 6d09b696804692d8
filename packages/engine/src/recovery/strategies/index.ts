import type { RecoveryStrategies } from '../recovery-strategy';
import { fail } from './fail';
import { restart } from './restart';
import { resume } from './resume';

/** The recovery strategies, by the name a workflow's `recovery.strategy` (or RECOVERY_STRATEGY) gives. */
export const RECOVERY_STRATEGY_MODULES: RecoveryStrategies = { resume, restart, fail };
