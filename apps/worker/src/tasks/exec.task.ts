import { parseDuration, type TaskParameters } from '@orch/core';
import { PermanentTaskError, type TaskContext, type TaskHandler } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import { callService, type ServiceTaskDeps } from './call-service';
import { truncateText } from './json-reply';

/** What the exec-agent answers for `run`. */
interface ExecServiceResult {
  exit_code: number;
  signal?: string | null;
  stdout: string;
  stderr: string;
  truncated?: boolean;
  files: { name: string; size: number; content?: string }[];
  mode: 'docker' | 'sandbox' | 'local';
  duration_ms?: number;
}

/** The `exec` task's output; `json` is stdout read as JSON, when it is. */
export type ExecTaskOutput = ExecServiceResult & { json?: unknown };

/**
 * `exec` tasks on the exec-agent (`exec-requests`, operation `run`): `image`, `command` (argv), `files`, `env`, and
 * `timeout` (a duration, sent as `timeout_ms`). A non-zero exit fails the attempt, retryably, naming the exit code
 * and the end of stderr.
 */
export function createExecTask(deps: ServiceTaskDeps): TaskHandler<TaskParameters<'exec'>> {
  return async (parameters, context) => {
    const { timeout, ...rest } = parameters;
    let timeoutMs: number | undefined;
    if (timeout !== undefined) {
      try {
        timeoutMs = parseDuration(timeout, 'timeout');
      } catch (error) {
        throw new PermanentTaskError((error as Error).message, { cause: error, code: 'BAD_REQUEST' });
      }
    }
    const request = timeoutMs === undefined ? rest : { ...rest, timeout_ms: timeoutMs };
    // The agent streams the output as the command writes it: into the task log a line at a time, live.
    const lines = new LineLog(context);
    const result = (await callService(deps, 'exec', 'run', request, context, lines.write).finally(() =>
      lines.end(),
    )) as ExecServiceResult;
    if (!result || typeof result.exit_code !== 'number') {
      throw new OrchestratorError('UPSTREAM_ERROR', 'the exec-agent answered without an exit code');
    }
    logOutput(result, context, lines.streamed);
    if (result.exit_code !== 0) {
      const stderr = result.stderr.trim();
      const tail = stderr.length > 500 ? `…${stderr.slice(-500)}` : stderr;
      throw new OrchestratorError(
        'TASK_FAILED',
        `command exited with code ${result.exit_code}${result.signal ? ` (${result.signal})` : ''}${
          tail ? `; stderr: ${tail}` : `; stdout: ${truncateText(result.stdout.trim(), 200)}`
        }`,
      );
    }
    const json = result.truncated ? undefined : readJson(result.stdout);
    return json === undefined ? result : { ...result, json: json.value };
  };
}

/**
 * The command's stdout and stderr into the attempt's task log, a line each, unless they came streamed (stdout first:
 * the result holds them apart, not interleaved), then a warning when the agent cut them at its byte limit.
 */
function logOutput(result: ExecServiceResult, context: TaskContext, streamed: boolean): void {
  // An agent that streamed it has written it already; one that did not (an older one) gives it all here.
  for (const stream of streamed ? [] : (['stdout', 'stderr'] as const)) {
    const text = typeof result[stream] === 'string' ? result[stream] : '';
    if (text === '') continue;
    for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) context.log(line, { stream });
  }
  if (result.truncated)
    context.log("the command's output passed the exec-agent's limit per stream; the rest was dropped", {
      level: 'warn',
    });
}

/** Streamed output split into lines: a line goes to the task log once its newline came (or the call ended). */
class LineLog {
  private readonly partial = { stdout: '', stderr: '' };
  streamed = false;

  constructor(private readonly context: TaskContext) {}

  readonly write = (stream: 'stdout' | 'stderr', data: string): void => {
    this.streamed = true;
    const parts = (this.partial[stream] + data).split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.context.log(line, { stream });
  };

  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.context.log(this.partial[stream], { stream });
      this.partial[stream] = '';
    }
  }
}

/** stdout as JSON when the whole of it is one JSON object or array. */
function readJson(stdout: string): { value: unknown } | undefined {
  const text = stdout.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
