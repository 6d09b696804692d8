/** Where a task log line came from: the handler (`ctx.log`), or a command's standard output or error. */
export const TASK_LOG_STREAMS = ['log', 'stdout', 'stderr'] as const;
export type TaskLogStream = (typeof TASK_LOG_STREAMS)[number];

export const TASK_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type TaskLogLevel = (typeof TASK_LOG_LEVELS)[number];

/** How an attempt ended, as its log's last entry says. */
export const ATTEMPT_ENDINGS = ['completed', 'failed', 'retrying', 'aborted', 'parked', 'lost'] as const;
export type AttemptEnding = (typeof ATTEMPT_ENDINGS)[number];

/** One line of a task attempt's log. */
export interface TaskLogLine {
  /** The Redis stream id, also the SSE `id` (resume with Last-Event-ID). */
  id: string;
  at: string;
  stream: TaskLogStream;
  level: TaskLogLevel;
  message: string;
}

/** `GET /api/v1/workflows/{id}/tasks/{task}/logs`: one attempt's log lines, oldest first. */
export interface TaskLogPage {
  execution_id: string;
  task: string;
  attempt: number;
  /** The attempts of the task that have a log, oldest first. */
  attempts: number[];
  lines: TaskLogLine[];
  /** The attempt is over (its log says how it ended, or the task or run has moved on). */
  ended: boolean;
  /** How the attempt ended, when its log says so. */
  ending?: AttemptEnding;
  /** The attempt reached TASK_LOG_MAX_BYTES: a marker line says so and later lines were dropped. */
  capped: boolean;
  /** More lines follow: pass it as `after` for the next page. */
  next_after?: string;
}

/** The last SSE message of a followed log (`event: end`). */
export interface TaskLogEnd {
  attempt: number;
  ending?: AttemptEnding;
}
