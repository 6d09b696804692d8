/** How long a parked job (a task queued while its run is paused, a hold, a waiting task) sleeps unless woken. */
export const PARKED_MS = 365 * 24 * 3_600_000;

export { APPROVAL_TIMEOUT_MS, MAX_WORKFLOW_DEPTH } from '@orch/core';
