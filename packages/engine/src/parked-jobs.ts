/** How long a parked job (a task queued while its run is paused, a hold, an approval) sleeps unless woken. */
export const PARKED_MS = 365 * 24 * 3_600_000;

/** How long an approval task waits for a decision when it declares no timeout. */
export const APPROVAL_TIMEOUT_MS = 7 * 24 * 3_600_000;

/** Decisions live in the run's `tasks` hash under this field, so they expire with the run. */
export const approvalField = (task: string) => `@approval:${task}`;

/** The run a `workflow` task started, in its run's `tasks` hash. */
export const childField = (task: string) => `@child:${task}`;

/** Sub-workflows may nest this deep; deeper is a permanent failure (it is almost surely a template calling itself). */
export const MAX_WORKFLOW_DEPTH = 5;
