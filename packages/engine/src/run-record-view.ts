import { type TaskDefinition, taskTypeOf } from '@orch/core';
import { taskNoteField } from '@orch/redis';
import {
  type AttemptStatus,
  type EventType,
  type ExecutionEvent,
  type ExecutionRecord,
  type FinalStatus,
  publicStatus,
  type SkipReason,
  TASK_STATUSES,
  type TaskAttempt,
  type TaskRecord,
  type TaskStatus,
} from '@orch/run-model';
import type { ExecutionDefinition } from './execution-definition';

/**
 * A task's state in the run's `tasks` hash: JSON with one-letter fields, since the scripts rewrite it on every
 * start and completion. `s` status, `a` attempts, `st`/`ft` start and finish (epoch ms), `e` error, `w` worker.
 */
export interface TaskState {
  s?: TaskStatus;
  a?: number;
  st?: number;
  ft?: number;
  e?: string;
  w?: string;
  /** Why a skipped task did not run; `timed_out` when a failed task's last attempt timed out. */
  r?: SkipReason | 'timed_out';
  /** Completed by a retry that reused the checkpointed output. */
  reused?: boolean;
  /** The attempts that ended before the current one (retried or lost), oldest first; the current one is a/w/st/ft. */
  h?: { a: number; w?: string; st?: number; ft?: number; s: AttemptStatus; e?: string }[];
}

/** The fields of a run's meta hash. */
export interface RunMeta {
  status?: string;
  workflow_id?: string;
  workflow_name?: string;
  template_id?: string;
  template_version?: string;
  correlation_id?: string;
  /** The API key name that submitted (or retried into) the run. */
  submitted_by?: string;
  request_id?: string;
  /** The run's OpenTelemetry trace (when the submitter traces). */
  trace_id?: string;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  total?: string;
  pauses?: string;
  respond_to?: string;
  /** '1' when the submitter waits for the end: the finished message carries the record (finalize-12.lua). */
  awaited?: string;
  /** A sub-workflow's parent run, and the `workflow` task of it that started it. */
  parent_execution_id?: string;
  parent_task_id?: string;
  retried_from?: string;
  /** While exit handlers run (`exiting`): the status and error the run will end with, and the `${workflow}` they see. */
  exit_status?: string;
  exit_error?: string;
  exit?: string;
  /** Epoch ms by which the exit handlers must be done. */
  exit_deadline?: string;
  /** A completed run's declared `output:`, evaluated (JSON). */
  result?: string;
}

export function iso(ms: string | number | null | undefined): string | undefined {
  if (ms === undefined || ms === null || ms === '') return undefined;
  // A record's tasks mostly share a few milliseconds (a fan-out's thousand leaves end within a hundred or so).
  if (ms !== lastMs) [lastMs, lastIso] = [ms, new Date(Number(ms)).toISOString()];
  return lastIso;
}
let lastMs: string | number | undefined;
let lastIso = '';

/** The record as the API shows it, from the run's meta, definition, task states and (optionally) outputs. */
export function toRecord(
  id: string,
  meta: RunMeta,
  def: ExecutionDefinition,
  states: ReadonlyMap<string, string>,
  outputs: ReadonlyMap<string, string>,
  /** False for `/status`: no outputs were read, so no result either. */
  withOutputs = true,
): ExecutionRecord {
  const progress = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as ExecutionRecord['progress'];
  progress.total = 0;
  const exits = (def.workflow.on_exit ?? []).map((t) => ({
    ...toTaskRecord(t, states, outputs),
    on_exit: true as const,
  }));
  const tasks = [...def.workflow.tasks.map((t) => toTaskRecord(t, states, outputs)), ...exits];
  for (const record of tasks) {
    progress[record.status] += 1;
    progress.total += 1;
  }
  const record: ExecutionRecord = {
    execution_id: id,
    status: publicStatus(meta.status ?? 'pending'),
    workflow: { id: def.workflow.id, ...(def.workflow.name ? { name: def.workflow.name } : {}) },
    variables: def.variables,
    created_at: iso(meta.created_at) as string,
    progress,
    tasks,
  };
  if (meta.correlation_id) record.correlation_id = meta.correlation_id;
  if (meta.submitted_by) record.submitted_by = meta.submitted_by;
  if (meta.request_id) record.request_id = meta.request_id;
  if (meta.parent_execution_id) record.parent_execution_id = meta.parent_execution_id;
  if (meta.parent_task_id) record.parent_task_id = meta.parent_task_id;
  if (meta.trace_id) record.trace_id = meta.trace_id;
  if (def.template) record.template = def.template;
  if (meta.started_at) record.started_at = iso(meta.started_at);
  if (meta.finished_at) record.finished_at = iso(meta.finished_at);
  if (meta.started_at && meta.finished_at) record.duration_ms = Number(meta.finished_at) - Number(meta.started_at);
  if (meta.error) record.error = meta.error;
  if (withOutputs && record.status === 'completed')
    record.result = meta.result === undefined ? finalOutputs(def, tasks) : JSON.parse(meta.result);
  return record;
}

/** A run's record as stored: its meta, task states and outputs (what RunStore.get reads). */
export interface RecordHashes {
  meta: RunMeta;
  tasks: Map<string, string>;
  outputs: Map<string, string>;
}

/** The full record (outputs included) from the hashes a script returned or published. */
export function recordFromHashes(id: string, def: ExecutionDefinition, hashes: RecordHashes): ExecutionRecord {
  return toRecord(id, hashes.meta, def, hashes.tasks, hashes.outputs);
}

function toTaskRecord(
  t: TaskDefinition,
  states: ReadonlyMap<string, string>,
  outputs: ReadonlyMap<string, string>,
): TaskRecord {
  const raw = states.get(t.id);
  const state: TaskState = raw ? JSON.parse(raw) : {};
  const status = state.s ?? 'pending';
  const record: TaskRecord = { id: t.id, type: t.type, status, attempts: state.a ?? 0 };
  if (t.name) record.name = t.name;
  if (state.st) record.started_at = iso(state.st);
  if (state.ft) record.finished_at = iso(state.ft);
  if (state.st && state.ft) record.duration_ms = state.ft - state.st;
  if (state.e) record.error = state.e;
  if (state.r && status === 'skipped') record.skip_reason = state.r as SkipReason;
  if (state.w) record.worker = state.w;
  const history = historyOf(state);
  if (history.length > 0) record.history = history;
  if (status === 'running') {
    const note = (name: string) => states.get(taskNoteField(name, t.id));
    const waiting = taskTypeOf(t.type)?.waitingFor?.(t.parameters ?? {}, note);
    if (waiting) record.waiting_for = waiting;
  }
  const output = outputs.get(t.id);
  if (output !== undefined) record.output = JSON.parse(output);
  return record;
}

/** How the current attempt of a task in `status` stands; undefined when no handler ran (skips, replays). */
const CURRENT: Partial<Record<TaskStatus, AttemptStatus>> = {
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The ended attempts kept in `h`, then the current one (unless no handler ran in it). */
function historyOf(state: TaskState): TaskAttempt[] {
  const entries = [...(state.h ?? [])];
  const current = state.s === 'failed' && state.r === 'timed_out' ? 'timed_out' : state.s && CURRENT[state.s];
  if (current && state.a && state.st && state.a !== entries.at(-1)?.a)
    entries.push({ a: state.a, w: state.w, st: state.st, ft: state.ft, s: current, e: state.e });
  return entries.map((h) => {
    const attempt: TaskAttempt = { attempt: h.a, started_at: iso(h.st) ?? '', status: h.s };
    if (h.w) attempt.worker = h.w;
    if (h.ft) attempt.ended_at = iso(h.ft);
    if (h.st && h.ft) attempt.duration_ms = h.ft - h.st;
    if (h.e) attempt.error = h.e;
    return attempt;
  });
}

/** One stream entry (`[id, [field, value, ...]]`) as an event. */
export function toEvent(id: string, fields: string[]): ExecutionEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const event: ExecutionEvent = { id, type: (map.get('type') ?? 'unknown') as EventType, at: iso(map.get('at')) ?? '' };
  const task = map.get('task');
  const attempt = map.get('attempt');
  const error = map.get('error');
  const worker = map.get('worker');
  const by = map.get('by');
  const reason = map.get('reason');
  const item = map.get('item');
  const status = map.get('status');
  if (task) event.task = task;
  if (reason) event.reason = reason as SkipReason;
  if (item) event.item = Number(item);
  if (status) event.status = status as FinalStatus;
  if (attempt && attempt !== '0') event.attempt = Number(attempt);
  if (error) event.error = error;
  if (worker) event.worker = worker;
  if (by) event.by = by;
  return event;
}

/**
 * The result of a completed run without `output:`: the outputs of its final tasks (those no other task depends on,
 * among the tasks it ran), by task id.
 */
export function finalOutputs(def: ExecutionDefinition, tasks: readonly TaskRecord[]): Record<string, unknown> {
  const ran = new Set(def.untargeted);
  const final = (id: string) => !(def.tasks[id]?.dependents ?? []).some((d) => !ran.has(d));
  return Object.fromEntries(
    tasks.filter((t) => !t.on_exit && t.status === 'completed' && final(t.id)).map((t) => [t.id, t.output ?? null]),
  );
}
