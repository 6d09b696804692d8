/**
 * The state of a watched run, fed by its events, and the two ways of showing it: plain lines (one per change, for
 * pipes and CI logs) and a frame redrawn in place on a terminal.
 */
import type { AnyExecutionEvent, ExecutionStatus, WaitingFor } from '@orch/api-client';
import { TASK_FINAL_STATUSES, TERMINAL_STATUSES } from '@orch/run-model';

export interface TaskView {
  id: string;
  type: string;
  status: string;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  retrying?: boolean;
  waitingFor?: WaitingFor;
}

export interface RunView {
  id: string;
  workflow: string;
  status: string;
  tasks: TaskView[];
  startedAt?: number;
  finishedAt?: number;
  error?: string;
}

const TASK_DONE: ReadonlySet<string> = new Set(TASK_FINAL_STATUSES);

/** A view with every task pending: the event replay then brings it up to date, in order. */
export function emptyView(record: ExecutionStatus): RunView {
  return {
    id: record.execution_id,
    workflow: record.template ? `${record.template.id}@${record.template.version ?? '-'}` : record.workflow.id,
    status: 'pending',
    tasks: record.tasks.map((t) => ({ id: t.id, type: t.type, status: 'pending', attempt: 0 })),
  };
}

const ms = (iso: string) => Date.parse(iso);

/** Applies one event to the view and returns the plain lines that describe the change (none for noise). */
export function applyEvent(view: RunView, event: AnyExecutionEvent): string[] {
  const at = ms(event.at);
  const [scope, what = ''] = event.type.split('.', 2) as [string, string?];
  if (scope === 'workflow') return applyExecutionEvent(view, what, at, event.error);
  const task = view.tasks.find((t) => t.id === event.task);
  if (scope !== 'task' || !task) return [];
  switch (what) {
    case 'started': {
      task.status = 'running';
      task.attempt = event.attempt ?? task.attempt + 1;
      task.startedAt = at;
      task.finishedAt = undefined;
      task.retrying = false;
      return [`${task.id}: running${task.attempt > 1 ? ` (attempt ${task.attempt})` : ''}`];
    }
    case 'retrying':
      task.retrying = true;
      task.error = event.error;
      return [`${task.id}: attempt ${event.attempt ?? task.attempt} failed, retrying: ${event.error ?? 'no message'}`];
    case 'stalled':
      return [
        `${task.id}: attempt ${event.attempt ?? task.attempt} lost${event.worker ? ` with worker ${event.worker}` : ''}; it runs again`,
      ];
    case 'approved':
    case 'rejected':
      task.waitingFor = undefined;
      return [`${task.id}: ${what}`];
    default: {
      if (!TASK_DONE.has(what)) return [];
      task.status = what;
      task.finishedAt = at;
      task.waitingFor = undefined;
      task.retrying = false;
      if (event.error) task.error = event.error;
      const count = `[${finished(view)}/${view.tasks.length}]`;
      const took = task.startedAt ? formatMs(at - task.startedAt) : '';
      if (what === 'completed') return [`${task.id}: completed in ${took} ${count}`];
      if (what === 'failed') return [`${task.id}: failed${took ? ` after ${took}` : ''}: ${task.error ?? ''} ${count}`];
      if (what === 'upstream_failed') return [`${task.id}: not run, an upstream task failed ${count}`];
      if (what === 'skipped' && event.reason) return [`${task.id}: skipped (${event.reason}) ${count}`];
      return [`${task.id}: ${what} ${count}`];
    }
  }
}

function applyExecutionEvent(view: RunView, what: string, at: number, error?: string): string[] {
  switch (what) {
    case 'created':
      return [];
    case 'queued':
      view.status = 'pending';
      return ['run queued: waiting for a free slot (MAX_CONCURRENT_WORKFLOWS)'];
    case 'started':
      view.status = 'running';
      view.startedAt = at;
      return ['run started'];
    case 'paused':
    case 'resumed':
      view.status = what === 'paused' ? 'paused' : 'running';
      return [`run ${what}`];
    case 'failing':
    case 'cancelling':
    case 'timing_out':
      // Still running to the user: the run is ending and tasks are being stopped.
      return [`run ${what.replace('_', ' ')}${error ? `: ${error}` : ''}`];
    case 'exiting':
      return ['run ending: its exit handlers run (on_exit)'];
    case 'exit_grace_expired':
      return [`run ending: ${error ?? 'its exit handlers ran past their grace period'}`];
    default:
      if (!TERMINAL_STATUSES.has(what)) return [];
      view.status = what;
      view.finishedAt = at;
      if (error) view.error = error;
      return [];
  }
}

/** Takes what only a record knows (what tasks wait on) and returns lines for waits that just began. */
export function mergeRecord(view: RunView, record: ExecutionStatus): string[] {
  const lines: string[] = [];
  for (const t of record.tasks) {
    const task = view.tasks.find((v) => v.id === t.id);
    if (!task) continue;
    const before = task.waitingFor;
    // The record can be ahead of the events seen so far: a wait counts once this view has the task running (the
    // task.started event that gets it there asks for another record).
    task.waitingFor = t.waiting_for && task.status === 'running' ? t.waiting_for : undefined;
    if (task.waitingFor && !before) lines.push(`${task.id}: ${describeWaiting(task.waitingFor)}`);
  }
  return lines;
}

export function describeWaiting(w: WaitingFor): string {
  if (w.kind === 'queue') return w.message ?? `waiting for a worker of queue ${w.queue}`;
  const who = w.approvers?.length ? ` by ${w.approvers.join(', ')}` : ' (anyone may decide)';
  const what = w.kind === 'approval' ? `waiting for approval${who}` : `waiting for ${w.kind}`;
  return w.message ? `${what}: ${w.message}` : what;
}

export function finished(view: RunView): number {
  return view.tasks.filter((t) => TASK_DONE.has(t.status)).length;
}

/** 0.41s, 12.3s, 2m05s, 1h02m. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value) || value < 0) return '-';
  if (value < 10_000) return `${(value / 1000).toFixed(2)}s`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)}s`;
  const s = Math.floor(value / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressBar(done: number, total: number, width: number): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** Ended without running to success: counted beside the bar, not in it. */
const UNSUCCESSFUL = ['failed', 'cancelled', 'upstream_failed'] as const;

/**
 * `[███░░] 2/4 (1 failed, 1 cancelled)`: the bar and count are the tasks that completed or were skipped, so a run that
 * failed or was cancelled never shows a full bar; the tasks that failed, were cancelled or never ran are named.
 */
export function progressLine(statuses: readonly string[], width: number): string {
  const count = (status: string) => statuses.filter((s) => s === status).length;
  const ok = count('completed') + count('skipped');
  const others = UNSUCCESSFUL.map((s) => [s, count(s)] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const bar = `[${progressBar(ok, statuses.length, width)}] ${ok}/${statuses.length}`;
  return others.length > 0 ? `${bar} (${others.join(', ')})` : bar;
}

const COLORS: Record<string, string> = {
  completed: '32',
  failed: '31',
  timed_out: '31',
  running: '36',
  waiting: '33',
  paused: '33',
  retrying: '33',
  skipped: '90',
  upstream_failed: '35',
  cancelled: '35',
  pending: '2',
};
const SYMBOLS: Record<string, string> = {
  completed: '✓',
  failed: '✗',
  running: '▶',
  waiting: '⏸',
  retrying: '↻',
  skipped: '↷',
  upstream_failed: '⊘',
  cancelled: '⊘',
  pending: '·',
};

export interface FrameOptions {
  now: number;
  color: boolean;
  /** Terminal width: longer lines are cut, since a wrapped line would break the redraw's line count. */
  width: number;
  /** Task rows at most; the rest are summarised in one line. */
  maxTasks: number;
}

/** The in-place display: a header with a progress bar, then one row per task. */
export function renderFrame(view: RunView, options: FrameOptions): string[] {
  const paint = (code: string | undefined, text: string) =>
    options.color && code ? `\x1b[${code}m${text}\x1b[0m` : text;
  const fit = (text: string) => (text.length > options.width - 1 ? `${text.slice(0, options.width - 2)}…` : text);
  const total = view.tasks.length;
  const done = finished(view);
  const end = view.finishedAt ?? options.now;
  const elapsed = view.startedAt ? formatMs(end - view.startedAt) : '';
  const header = `run ${view.id}  ${view.workflow}  ${view.status.toUpperCase()}`;
  const bar = progressLine(
    view.tasks.map((t) => t.status),
    24,
  );
  const lines = [`${paint('1', fit(header))}`, paint(COLORS[view.status], fit(`${bar}  ${elapsed}`))];
  const idWidth = Math.min(28, Math.max(4, ...view.tasks.map((t) => t.id.length)));
  for (const task of pick(view.tasks, options.maxTasks)) {
    const state = task.waitingFor ? 'waiting' : task.retrying ? 'retrying' : task.status;
    const took = task.startedAt ? formatMs((task.finishedAt ?? options.now) - task.startedAt) : '';
    const attempt = task.attempt > 1 ? `#${task.attempt}` : '';
    let extra = '';
    if (task.waitingFor) extra = describeWaiting(task.waitingFor);
    else if (task.error && (task.status === 'failed' || task.retrying)) extra = task.error;
    const row = `  ${SYMBOLS[state] ?? '?'} ${task.id.padEnd(idWidth)} ${state.padEnd(15)} ${attempt.padEnd(3)} ${took.padStart(7)}  ${extra}`;
    lines.push(paint(COLORS[state], fit(row.trimEnd())));
  }
  if (total > options.maxTasks) lines.push(fit(`  … ${total - options.maxTasks} more tasks (${done} finished)`));
  return lines;
}

/** The rows worth showing when not all fit: active ones first, then upcoming, then finished; in workflow order. */
function pick(tasks: TaskView[], max: number): TaskView[] {
  if (tasks.length <= max) return tasks;
  const rank = (t: TaskView) => (t.status === 'running' || t.status === 'failed' ? 0 : t.status === 'pending' ? 1 : 2);
  const chosen = new Set([...tasks].sort((a, b) => rank(a) - rank(b)).slice(0, max));
  return tasks.filter((t) => chosen.has(t));
}
