/**
 * The statuses of a run and of its tasks: one vocabulary for the Lua scripts' wrappers, the record, the API's
 * OpenAPI document and the CLI.
 */

/** Statuses of a run as users see them. */
export const EXECUTION_STATUSES = [
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'timed_out',
  'cancelled',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * A run that is ending: no task of its own starts, its workflow job then gives it its terminal status. `exiting`: its
 * tasks are done and its exit handlers (`on_exit`) run; the status it will end with is already decided. Shown as
 * `running`.
 */
export const ENDING_STATUSES = ['failing', 'cancelling', 'timing_out', 'exiting'] as const;
export type EndingStatus = (typeof ENDING_STATUSES)[number];

/** What a run's meta hash holds under `status`. */
export type InternalStatus = ExecutionStatus | EndingStatus;

export const FINAL_STATUSES = ['completed', 'failed', 'timed_out', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set<string>(FINAL_STATUSES);

/** True for a run that has ended (and for nothing else, an absent status included). */
export function isFinalStatus(status: string | null | undefined): status is FinalStatus {
  return status !== null && status !== undefined && TERMINAL_STATUSES.has(status);
}

export function isEndingStatus(status: string | null | undefined): status is EndingStatus {
  return (ENDING_STATUSES as readonly unknown[]).includes(status);
}

/** Internal statuses as users see them: a run that is ending is still running. */
export function publicStatus(status: string | null | undefined): ExecutionStatus {
  if (isEndingStatus(status)) return 'running';
  return (EXECUTION_STATUSES as readonly unknown[]).includes(status) ? (status as ExecutionStatus) : 'pending';
}

export const TASK_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'skipped',
  'upstream_failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The statuses a task's completion record can hold: written once, by complete-task or finalize. */
export const TASK_FINAL_STATUSES = ['completed', 'failed', 'skipped', 'upstream_failed', 'cancelled'] as const;
export type TaskFinalStatus = (typeof TASK_FINAL_STATUSES)[number];

export function isTaskFinalStatus(status: string | null | undefined): status is TaskFinalStatus {
  return (TASK_FINAL_STATUSES as readonly unknown[]).includes(status);
}

/**
 * Why a task was `skipped`: its own `condition` was false, it sits on the branch a condition task did not take, its
 * dependencies were skipped, or the submission's `targets` did not need it.
 */
export const SKIP_REASONS = ['condition false', 'branch not taken', 'upstream skipped', 'not targeted'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
