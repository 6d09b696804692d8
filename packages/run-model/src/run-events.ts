import { ENDING_STATUSES, FINAL_STATUSES, TASK_FINAL_STATUSES } from './run-status';

/** What the recovery pass does, each counted, logged and (for a run) appended as a `recovery.<action>` event. */
export const RECOVERY_ACTIONS = [
  'admitted',
  'started',
  'timed_out',
  'resumed',
  'restarted',
  'failed',
  'finalized',
  'task_timeouts',
  'slots_freed',
  'index_cleaned',
  'jobs_cleaned',
] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];

/** Every type of entry in a run's event stream (the SSE `event:` field). */
export const EVENT_TYPES = [
  'workflow.created',
  'workflow.queued',
  'workflow.started',
  'workflow.paused',
  'workflow.resumed',
  // The exit handlers ran past their grace period and were stopped; the run ends with the status it had decided.
  'workflow.exit_grace_expired',
  ...ENDING_STATUSES.map((s) => `workflow.${s}` as const),
  ...FINAL_STATUSES.map((s) => `workflow.${s}` as const),
  'task.started',
  // The worker of a running attempt was lost (killed, or it lost the job's lock): the task runs again elsewhere.
  'task.stalled',
  'task.retrying',
  'task.approved',
  'task.rejected',
  ...TASK_FINAL_STATUSES.map((s) => `task.${s}` as const),
  // Items of a parallel task under a concurrency limit (`max_concurrency`), written by the gate that admits them.
  'item.started',
  'item.finished',
  ...RECOVERY_ACTIONS.map((a) => `recovery.${a}` as const),
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The event that ends a run's stream: its terminal status. */
export function isFinalEvent(type: string): boolean {
  return (FINAL_STATUSES as readonly string[]).some((s) => type === `workflow.${s}`);
}
