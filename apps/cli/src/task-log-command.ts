import type { components } from '@orch/api-client';
import { ApiError, runPath } from './api-client';
import type { CommandContext } from './cli-io';
import { followSse } from './sse-reader';

type TaskLogLine = components['schemas']['TaskLogLine'];
type TaskLogEnd = components['schemas']['TaskLogEnd'];
type TaskLogPage = components['schemas']['TaskLogPage'];

export interface TaskLogOptions {
  follow?: boolean;
  attempt?: string;
  json?: boolean;
}

/** `2026-11-26T11:40:16.794Z  stdout  the line`: the stream, or the level of a handler's line. */
export function logLine(line: TaskLogLine): string {
  return `${line.at}  ${(line.stream === 'log' ? line.level : line.stream).padEnd(6)}  ${line.message}`;
}

/**
 * `orchestrator logs <id> <task>`: one attempt's log (default: the latest), every page of it; with --follow, live
 * until the attempt is over. How it ended goes to stderr, so stdout is the log alone.
 */
export async function printTaskLogs(
  ctx: CommandContext,
  id: string,
  task: string,
  opts: TaskLogOptions,
): Promise<void> {
  const { io } = ctx;
  const attempt = opts.attempt === undefined ? undefined : Number(opts.attempt);
  if (attempt !== undefined && !(Number.isInteger(attempt) && attempt >= 1))
    throw new ApiError(0, 'BAD_OPTION', `--attempt must be an attempt number (1 for the first); got ${opts.attempt}`);
  const print = (line: TaskLogLine) => io.out(opts.json ? JSON.stringify(line) : logLine(line));
  const client = ctx.client();
  if (opts.follow) {
    const query = new URLSearchParams({ follow: 'true', ...(attempt ? { attempt: String(attempt) } : {}) });
    const stream = followSse({
      client,
      path: runPath(id, `/tasks/${encodeURIComponent(task)}/logs?${query.toString()}`),
      signal: io.signal,
      isFinal: (m) => m.event === 'end',
    });
    for await (const message of stream) {
      if (message.event === 'line') print(JSON.parse(message.data) as TaskLogLine);
      else if (message.event === 'end') {
        const end = JSON.parse(message.data) as TaskLogEnd;
        io.err(`attempt ${end.attempt} of ${task} ended${end.ending ? `: ${end.ending}` : ''}`);
      }
    }
    return;
  }
  let after: string | undefined;
  for (;;) {
    const path = { path: { id, task }, query: { attempt, after } };
    // Without follow=true the answer is JSON (the document also names the event stream of the same status).
    const page = (await client.call(client.api.GET('/api/v1/workflows/{id}/tasks/{task}/logs', { params: path })))
      .body as TaskLogPage;
    for (const line of page.lines) print(line);
    if (page.next_after) {
      after = page.next_after;
      continue;
    }
    if (!page.ended) io.err(`attempt ${page.attempt} of ${task} is still running: add --follow to follow it`);
    else if (page.lines.length === 0) io.err(`attempt ${page.attempt} of ${task} wrote no log lines`);
    if (page.attempts.length > 1 && !opts.json)
      io.err(`attempts with a log: ${page.attempts.join(', ')} (pick one with --attempt <n>)`);
    return;
  }
}
