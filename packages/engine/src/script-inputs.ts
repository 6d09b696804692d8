import type { FinalStatus, TaskFinalStatus } from '@orch/run-model';

// The inputs of the exit, gate and finalize scripts (run-scripts.ts calls them).

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
