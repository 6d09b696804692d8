/** Statuses of a run. `failing`, `cancelling` and `timing_out` are internal: the run is ending. */
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
export type InternalStatus = ExecutionStatus | 'failing' | 'cancelling' | 'timing_out';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'timed_out', 'cancelled']);

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

export interface TaskRecord {
  id: string;
  name?: string;
  type: string;
  status: TaskStatus;
  attempts: number;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  output?: unknown;
  /** The worker that ran the latest attempt. */
  worker?: string;
  /** What a running task is waiting on, such as an approval and who may give it. */
  waiting_for?: { kind: 'approval'; message?: string; approvers?: string[] };
}

/** One run, as the API returns it. */
export interface ExecutionRecord {
  execution_id: string;
  status: ExecutionStatus;
  correlation_id?: string;
  /** The request that created the run (X-Request-Id), also on its tasks' log lines. */
  request_id?: string;
  workflow: { id: string; name?: string };
  template?: { id: string; version?: string };
  variables: Record<string, unknown>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  progress: Record<TaskStatus, number> & { total: number };
  tasks: TaskRecord[];
}

/** Internal statuses as users see them: a run that is ending is still running. */
export function publicStatus(status: string): ExecutionStatus {
  if (status === 'failing' || status === 'cancelling' || status === 'timing_out') return 'running';
  return (EXECUTION_STATUSES as readonly string[]).includes(status) ? (status as ExecutionStatus) : 'pending';
}

/** One entry of an execution's event stream. */
export interface ExecutionEvent {
  id: string;
  type: string;
  task?: string;
  attempt?: number;
  at: string;
  error?: string;
  worker?: string;
}
