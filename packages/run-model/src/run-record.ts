import type { EventType } from './run-events';
import type { ExecutionStatus, FinalStatus, SkipReason, TaskStatus } from './run-status';

/**
 * What a task is waiting on: an approval and who may give it, or (`queue`) a worker for its task queue, as in
 * `no worker serves queue gpu`.
 */
export interface WaitingFor {
  kind: 'approval' | 'queue';
  message?: string;
  approvers?: string[];
  /** For `queue`: the task queue no live worker serves. */
  queue?: string;
}

/**
 * How one attempt of a task ended: `running` (it still is), `completed`, `failed` (it threw; a retry may follow),
 * `timed_out` (its timeout passed; a retry may follow), `lost` (its worker died or lost the job's lock, and another
 * worker ran the task again), `cancelled` (its run was cancelled, timed out or failed fast while it ran).
 */
export const ATTEMPT_STATUSES = ['running', 'completed', 'failed', 'timed_out', 'lost', 'cancelled'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** One execution of a task's handler: retries and re-runs after a lost worker are attempts of their own. */
export interface TaskAttempt {
  /** From 1, in the order they started. */
  attempt: number;
  /** The worker that ran it. */
  worker?: string;
  started_at: string;
  /** Absent while it runs; for a `lost` attempt, when the re-run found it lost. */
  ended_at?: string;
  status: AttemptStatus;
  /** Why it failed, with the error's cause chain (one `caused by:` line per cause). */
  error?: string;
  duration_ms?: number;
}

/** One task of a run, as the API returns it. */
export interface TaskRecord {
  id: string;
  name?: string;
  type: string;
  status: TaskStatus;
  /** Why a `skipped` task did not run. */
  skip_reason?: SkipReason;
  /** An exit handler: one of the workflow's `on_exit` tasks, run once the rest of the run has ended. */
  on_exit?: true;
  attempts: number;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  output?: unknown;
  /** The worker that ran the latest attempt. */
  worker?: string;
  /** Every attempt, oldest first (absent for a task no attempt ran: pending, skipped, upstream_failed). */
  history?: TaskAttempt[];
  waiting_for?: WaitingFor;
}

/** One run, as the API returns it (`GET /api/v1/workflows/{id}`; `/status` omits variables and outputs). */
export interface ExecutionRecord {
  execution_id: string;
  status: ExecutionStatus;
  correlation_id?: string;
  /** The API key name that submitted (or retried into) this run. */
  submitted_by?: string;
  /** The request that created the run (X-Request-Id), also on its tasks' log lines. */
  request_id?: string;
  /** A sub-workflow's parent run, and the `workflow` task of it that started this run. */
  parent_execution_id?: string;
  parent_task_id?: string;
  /** The run's OpenTelemetry trace id (32 hex digits), when the process that created it traces. */
  trace_id?: string;
  workflow: { id: string; name?: string };
  template?: { id: string; version?: string };
  variables: Record<string, unknown>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  /**
   * What a completed run returns: its workflow's `output:` evaluated, else the outputs of its final tasks by id.
   * Not in `/status`.
   */
  result?: unknown;
  /** Why a live run does not move on by itself, such as `no worker serves queue gpu`. */
  waiting_for?: string;
  progress: Record<TaskStatus, number> & { total: number };
  tasks: TaskRecord[];
}

/** `GET /api/v1/workflows/{id}/status`: the record without variables (and without task outputs). */
export type ExecutionStatusRecord = Omit<ExecutionRecord, 'variables'>;

/** One entry of a run's event stream. */
export interface ExecutionEvent {
  /** The Redis stream id, also the SSE `id`. */
  id: string;
  type: EventType;
  task?: string;
  attempt?: number;
  at: string;
  error?: string;
  worker?: string;
  /** Who decided an approval task (`task.approved`, `task.rejected`). */
  by?: string;
  /** `task.skipped`: why the task did not run. */
  reason?: SkipReason;
  /** `item.started` / `item.finished`: the item of a parallel task with a concurrency limit. */
  item?: number;
  /** `item.finished`: `completed` or `failed`; `workflow.exiting`: the status the run will end with. */
  status?: FinalStatus;
}

/** One run in a list. */
export interface ExecutionSummary {
  execution_id: string;
  status: ExecutionStatus;
  workflow_id: string;
  template?: { id: string; version?: string };
  correlation_id?: string;
  created_at: string;
  finished_at?: string;
}

/** A decision on an approval task (the first one wins). */
export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  payload?: unknown;
  by?: string;
  at: string;
}
