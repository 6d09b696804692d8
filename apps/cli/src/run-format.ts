import type {
  ExecutionList,
  ExecutionRecord,
  ExecutionStatus,
  TaskRecord,
  TaskState,
  WaitingFor,
} from '@orch/api-client';
import type { CliIo } from './cli-io';
import { describeWaiting, formatMs, progressLine } from './progress-view';

/** Longest output shown per task after a watch; `status --outputs` shows them whole. */
const OUTPUT_PREVIEW = 300;

function took(record: { started_at?: string; finished_at?: string; duration_ms?: number }): string {
  if (record.duration_ms !== undefined) return formatMs(record.duration_ms);
  if (record.started_at) return `${formatMs(Date.now() - Date.parse(record.started_at))} so far`;
  return '-';
}

function preview(value: unknown, limit: number): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length} chars)` : text;
}

/** The end of a watch: the result of a completed run, or the error and failed tasks (on stderr) of any other. */
export function printOutcome(io: CliIo, record: ExecutionRecord): void {
  const done = record.tasks.filter((t) => t.status === 'completed').length;
  const summary = `run ${record.status} after ${took(record)} [${done}/${record.tasks.length} tasks completed]`;
  if (record.status === 'completed') {
    io.out(summary);
    printResult(io, record.result);
    return;
  }
  io.err(`${summary}${record.error ? `: ${record.error}` : ''}`);
  for (const t of record.tasks.filter((task) => task.status === 'failed')) {
    io.err(`  ${t.id} failed (attempt ${t.attempts}): ${t.error ?? 'no message'}`);
  }
}

/**
 * What the run returned (its workflow's `output:`, else its final tasks' outputs by id): a line per field of an
 * object, else the value. Every task's output is `orchestrator status <id> --outputs`.
 */
function printResult(io: CliIo, result: unknown): void {
  if (result === undefined) return;
  io.out('result:');
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    for (const [key, value] of Object.entries(result)) io.out(`  ${key}: ${preview(value, OUTPUT_PREVIEW)}`);
  } else io.out(`  ${preview(result, OUTPUT_PREVIEW)}`);
}

/** `status`: the run, its tasks, and what it waits on with the command that would unblock it. */
export function printStatus(
  io: CliIo,
  record: ExecutionStatus | ExecutionRecord,
  options: { outputs?: boolean } = {},
): void {
  const template = record.template ? ` (template ${record.template.id}@${record.template.version ?? '-'})` : '';
  io.out(`run ${record.execution_id}`);
  io.out(`  workflow     ${record.workflow.id}${record.workflow.name ? ` "${record.workflow.name}"` : ''}${template}`);
  io.out(
    `  status       ${record.status}  ${progressLine(
      record.tasks.map((t) => t.status),
      20,
    )}`,
  );
  if (record.correlation_id) io.out(`  correlation  ${record.correlation_id}`);
  io.out(`  created      ${record.created_at}`);
  if (record.started_at) io.out(`  started      ${record.started_at}`);
  if (record.finished_at) io.out(`  finished     ${record.finished_at}`);
  if (record.started_at) io.out(`  duration     ${took(record)}`);
  if (record.error) io.out(`  error        ${record.error}`);
  if (record.waiting_for) io.out(`  waiting for  ${record.waiting_for}`);
  io.out('tasks');
  const tasks: (TaskState | TaskRecord)[] = record.tasks;
  const width = Math.min(28, Math.max(4, ...tasks.map((t) => t.id.length)));
  for (const t of tasks) io.out(`  ${taskRow(t, width)}`);
  printAttempts(io, tasks, width);
  const waiting = tasks.filter((t) => t.waiting_for);
  if (waiting.length > 0) io.out('waiting on');
  for (const t of waiting) {
    io.out(`  ${t.id}: ${describeWaiting(t.waiting_for as WaitingFor)}`);
    if (t.waiting_for?.kind === 'approval') {
      io.out(`    orchestrator approve ${record.execution_id} ${t.id} --by <name>   (or reject … --reason <text>)`);
    }
  }
  if (options.outputs) {
    // The run's result (a completed run's), then every task's output.
    const result = 'result' in record ? record.result : undefined;
    if (result !== undefined) io.out(`result\n  ${JSON.stringify(result, null, 2).replace(/\n/g, '\n  ')}`);
    const outputs = tasks.filter((t): t is TaskRecord => 'output' in t && t.output !== undefined);
    if (outputs.length > 0) io.out('outputs');
    for (const t of outputs) io.out(`  ${t.id}: ${JSON.stringify(t.output, null, 2).replace(/\n/g, '\n    ')}`);
  }
}

/** Tasks that ran more than once (retries, re-runs after a lost worker) or failed: each attempt on its own line. */
function printAttempts(io: CliIo, tasks: readonly TaskState[], width: number): void {
  const shown = tasks.filter((t) => (t.history?.length ?? 0) > 1 || (t.status === 'failed' && t.history));
  if (shown.length === 0) return;
  io.out('attempts');
  for (const t of shown) {
    (t.history ?? []).forEach((a, i) => {
      const took = a.duration_ms === undefined ? '' : formatMs(a.duration_ms);
      const head = `${(i === 0 ? t.id : '').padEnd(width)} #${String(a.attempt).padEnd(3)} ${a.status.padEnd(10)}`;
      const [first, ...causes] = (a.error ?? '').split('\n');
      io.out(
        `  ${head} ${took.padStart(8)}${a.worker ? `  on ${a.worker}` : ''}${first ? `  ${first}` : ''}`.trimEnd(),
      );
      for (const cause of causes) io.out(`  ${''.padEnd(width)}      ${cause}`);
    });
  }
}

function taskRow(t: TaskState, width: number): string {
  const attempt = t.attempts > 1 ? `#${t.attempts}` : '';
  // A running task's time so far ends in '…', which keeps the column aligned.
  const duration = t.started_at ? (t.duration_ms === undefined ? `${took(t).replace(' so far', '')}…` : took(t)) : '';
  const worker = t.worker ? `  on ${t.worker}` : '';
  const error = t.error ? `  ${t.error.split('\n')[0]}` : '';
  const why = t.skip_reason ? `  (${t.skip_reason})` : '';
  const exit = t.on_exit ? '  [on_exit]' : '';
  return `${t.id.padEnd(width)} ${t.type.padEnd(10)} ${t.status.padEnd(15)} ${attempt.padEnd(3)} ${duration.padStart(8)}${worker}${error}${why}${exit}`.trimEnd();
}

/** `list`: one line per run, newest first. */
export function printList(io: CliIo, page: ExecutionList): void {
  const { items } = page;
  if (items.length === 0) {
    io.out('no runs');
    return;
  }
  const rows = items.map((r) => [
    r.execution_id,
    r.status,
    r.template ? `${r.template.id}@${r.template.version ?? '-'}` : r.workflow_id,
    r.created_at,
    r.finished_at ? formatMs(Date.parse(r.finished_at) - Date.parse(r.created_at)) : '',
    r.correlation_id ?? '',
  ]);
  const head = ['EXECUTION', 'STATUS', 'WORKFLOW', 'CREATED', 'TOOK', 'CORRELATION'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  io.out(line(head));
  for (const row of rows) io.out(line(row));
}
