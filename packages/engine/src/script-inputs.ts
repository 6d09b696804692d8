import type { FinalStatus, InternalStatus, SkipReason, TaskFinalStatus } from '@orch/run-model';
import type { RecordHashes, RunMeta } from './run-record-view';

export type { RecordHashes };

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
  /** The most bytes of record the finished message carries for a submit that waits for the run (`awaited`). */
  recordCap: number;
  /** The run's slot is given back and the oldest waiting runs admitted into free ones (release-slot's work). */
  admission: { limit: number; startGraceMs: number };
  now?: number;
}

/** What finalize leaves to the caller when it ended the run. */
export interface FinalizeReply {
  /** The bus channel to answer on ('' for none). */
  respondTo: string;
  /** The task-log index's fields (`<task>:<attempt>`): each names a log stream still to be given the run's TTL. */
  logFields: string[];
  /** The runs admitted into the slot the run gave back, oldest first: the caller starts them. */
  admitted: string[];
  /** The final record's hashes, read by the script when someone waits for it (`respondTo`, `awaited`). */
  record?: RecordHashes;
}

/** The record hashes a finished message carries (finalize-12.lua: `record`), if it carries them whole. */
export function finishedRecord(message: { record?: { meta?: unknown; tasks?: unknown; out?: unknown } }) {
  const carried = message.record;
  return carried && typeof carried === 'object' ? recordHashes(carried.meta, carried.tasks, carried.out) : undefined;
}

/** RunStore.get: `outputs: false` leaves them out (`/status`); `carried` are hashes a finished message carried. */
export interface RecordReadOptions {
  outputs?: boolean;
  carried?: RecordHashes;
}

/**
 * The record hashes a script returned or published as flat HGETALL arrays (an empty one may arrive as `{}`: Lua's
 * JSON encoder cannot tell an empty array from an empty object); undefined unless all three are there.
 */
export function recordHashes(meta: unknown, tasks: unknown, outputs: unknown): RecordHashes | undefined {
  const flat = (value: unknown) =>
    Array.isArray(value) ? value.map(String) : value && typeof value === 'object' ? [] : undefined;
  const [m, t, o] = [flat(meta), flat(tasks), flat(outputs)];
  if (!m || !t || !o || m.length === 0) return undefined;
  return { meta: Object.fromEntries(pairs(m)), tasks: pairs(t), outputs: pairs(o) };
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
  /**
   * Dependents to start in the same call if this completion makes them ready (inline continuation): the job's next
   * task, then branches to run beside it.
   */
  starts?: readonly StartTaskInput[];
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
  /** Those of `starts` the call started (not in `ready`), by task id: what start-task would have answered. */
  started: Map<string, StartTaskReply>;
  /** Dependents made ready, to add as jobs (none unless the run is running). */
  ready: string[];
  /** This call recorded the last task of a running run: the meta and completion records its end is decided by. */
  end?: RunEndInputs;
}

/** What a run's end is decided by (RunEnding.endRun): its meta and its completion records. */
export type RunEndInputs = [RunMeta, Map<string, TaskFinalStatus>];

/** complete-task's reply, read: `starts` are the dependents the call was asked to start (see complete-task-6.lua). */
export function completeTaskReply(reply: string[], starts: readonly StartTaskInput[]): CompleteTaskReply {
  const [runStatus = '', triggered, done, startedCount, count] = reply;
  let at = 5 + Number(count);
  const result: CompleteTaskReply = {
    runStatus: runStatus as CompleteTaskReply['runStatus'],
    triggeredFailFast: triggered === '1',
    allRecorded: done === '1',
    ready: reply.slice(5, at),
    started: new Map(),
  };
  for (let i = 0; i < Number(startedCount); i++) {
    const taskId = reply[at] as string;
    const start = starts.find((s) => s.taskId === taskId) as StartTaskInput;
    const [wanted, reads] = [start.wanted.length, start.reads.length];
    result.started.set(taskId, {
      runStatus: result.runStatus,
      attempt: Number(reply[at + 1]),
      statuses: reply.slice(at + 2, at + 2 + wanted),
      outputs: reply.slice(at + 2 + wanted, at + 2 + wanted + reads),
    });
    at += 2 + wanted + reads;
  }
  if (result.started.size === 0 && result.allRecorded && reply.length === at + 2) {
    const [meta, fin] = reply.slice(at) as unknown as [string[], string[]];
    result.end = [Object.fromEntries(pairs(meta)), pairs(fin)] as RunEndInputs;
  }
  return result;
}

/** A flat HGETALL reply from a script (field, value, ...) as a Map: a task named `__proto__` stays a field. */
function pairs(flat: readonly string[]): Map<string, string> {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i] as string, flat[i + 1] as string);
  return hash;
}
