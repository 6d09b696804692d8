import type { FinalStatus, InternalStatus, SkipReason, TaskFinalStatus } from '@orch/run-model';

// The inputs (and the task scripts' replies) of the scripts run-scripts.ts calls.

export interface BeginExitInput {
  /** The status the run ends with once its exit handlers are done, and its error. */
  status: FinalStatus;
  error: string;
  /** The status given to tasks that never finished, listed in `unfinished`. */
  unfinishedStatus: TaskFinalStatus;
  unfinished: readonly string[];
  /** What the exit handlers see as `${workflow}`, JSON. */
  workflow: string;
  /** Epoch ms by which the exit handlers must be done. */
  deadline: number;
  now?: number;
}

/** A concurrency gate: the run's (`*`) or a parallel task's (its id), with its limit. */
export interface Gate {
  name: string;
  limit: number;
}

/** What holds a gate's slot: a task, or a parallel item (`task`, `index`: its events name them). */
export interface GateMember {
  member: string;
  item?: { task: string; index: number };
}

export interface FinalizeInput {
  status: FinalStatus;
  error: string;
  ttlMs: number;
  /** The status given to tasks that never finished, listed in `unfinished`. */
  unfinishedStatus: TaskFinalStatus;
  unfinished: readonly string[];
  /** Pub/sub channel told about the end. */
  channel: string;
  now?: number;
}

/** What finalize leaves to the caller when it ended the run. */
export interface FinalizeReply {
  /** The bus channel to answer on ('' for none). */
  respondTo: string;
  /** The task-log index's fields (`<task>:<attempt>`): each names a log stream still to be given the run's TTL. */
  logFields: string[];
}

export interface StartTaskReply {
  runStatus: InternalStatus | '';
  /** The attempt recorded: the one asked for, or the next after an inline attempt whose carrier was lost. */
  attempt: number;
  /** Set when the task's completion is already recorded: the attempt replays it instead of running. */
  recorded?: { status: TaskFinalStatus; output?: string };
  /** The completion status of each `wanted` task, in order ('' while it has none). */
  statuses: string[];
  /** The output JSON of each `reads` task, in order ('' when it has none). */
  outputs: string[];
}

export interface StartTaskInput {
  taskId: string;
  attempt: number;
  worker: string;
  wanted: readonly string[];
  reads: readonly string[];
  /** The job an inline attempt runs in (the job of the task it depends on) and that job's token (this run of it). */
  carrier?: { jobId: string; token: string };
}

export interface CompleteTaskInput {
  taskId: string;
  status: TaskFinalStatus;
  output?: string;
  error?: string;
  /** 0 for a completion that no attempt made (a skip, a replay). */
  attempt: number;
  /** This failure fails the run now (fail-fast). */
  failFast: boolean;
  /** Why a `skipped` task did not run; `timed_out` for a failure whose last attempt timed out. */
  reason?: SkipReason | 'timed_out';
  dependents: readonly string[];
  /** A dependent to start in the same call if this completion makes it ready (inline continuation). */
  start?: StartTaskInput;
  /** The run's number of tasks: the reply then says whether this completion was the last (`allRecorded`). */
  taskCount?: number;
  now?: number;
}

export interface CompleteTaskReply {
  runStatus: InternalStatus | '';
  /** This call moved the run to `failing`: the caller aborts the run's other tasks. */
  triggeredFailFast: boolean;
  /** Every task of the run has a completion record now (asked for with `taskCount`). */
  allRecorded: boolean;
  /** The `start` dependent, started (not in `ready`): what start-task would have answered. */
  started?: StartTaskReply;
  /** Dependents made ready, to add as jobs (none unless the run is running). */
  ready: string[];
}
