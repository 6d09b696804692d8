/**
 * How long a parked job (a task queued while its run is paused, a pause hold) sleeps unless woken. Resume wakes them
 * at once; the timer is the backstop for a wake that misses (a resume between a task's status check and its park)
 * or is lost with a primary's unreplicated writes: the job then looks again, and parks again while still paused.
 */
export const PARKED_MS = 30_000;

export { APPROVAL_TIMEOUT_MS, MAX_WORKFLOW_DEPTH } from '@orch/core';
