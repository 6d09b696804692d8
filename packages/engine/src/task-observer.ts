/**
 * How a task job's run on a worker ended: the task's recorded outcome (`completed`, `failed`, `skipped`,
 * `upstream_failed`), `retrying` (the attempt failed and will be retried), `parked` (a delay, approval, sub-workflow,
 * parallel task or a paused run's task let go of the worker and will come back), `aborted` (its run is ending),
 * `lost` (this worker lost the job's lock, so another worker runs the attempt again), `not_running` (it found its
 * run ending and did nothing), or `cancelled` (a re-run found the task recorded as cancelled).
 */
export type TaskOutcome =
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'upstream_failed'
  | 'cancelled'
  | 'retrying'
  | 'parked'
  | 'aborted'
  | 'lost'
  | 'not_running';

/**
 * What an engine worker reports about the jobs it runs, for metrics (the worker app's /metrics). Every hook is
 * optional, is called synchronously on the job's path, and must not throw.
 */
export interface TaskObserver {
  /**
   * A task or sub-task job started running here. `waitedMs` is how long it waited in the queue before its first
   * run (absent on later runs: retries, a delay's second half, a parked job woken up).
   */
  jobStarted?(job: { type: string; attempt: number; waitedMs?: number }): void;
  /** The job stopped running here after `durationMs`, with `outcome`. Called once per jobStarted. */
  jobEnded?(job: { type: string; attempt: number; outcome: TaskOutcome; durationMs: number }): void;
  /** BullMQ's stall check on this worker found a job of `queue` whose worker stopped renewing its lock. */
  jobStalled?(job: { queue: string; jobId: string }): void;
}
