import type { AnyExecutionEvent } from '@orch/api-client';
import { isFinalEvent, TERMINAL_STATUSES } from '@orch/run-model';
import { type ApiClient, runPath } from './api-client';
import { type CliIo, exitCodeFor, printJson, useColor } from './cli-io';
import { applyEvent, emptyView, mergeRecord, type RunView, renderFrame } from './progress-view';
import { printOutcome } from './run-format';
import { followSse } from './sse-reader';

export interface WatchOptions {
  /** Print only the final record as JSON. */
  json?: boolean;
  /** Caps the server's reconnect advice (tests). */
  maxRetryMs?: number;
}

/** Exit code when the user stopped watching with Ctrl+C (128 + SIGINT), as shells report it. */
export const DETACHED = 130;

/**
 * Follows a run until it ends and returns the exit code for its final status. Progress comes from the run's event
 * stream (replayed from the start, so the display is the same whenever the watch began); what only the record
 * knows, such as an approval's approvers, is fetched when a task starts.
 */
export async function watchRun(client: ApiClient, io: CliIo, id: string, options: WatchOptions = {}): Promise<number> {
  const path = { params: { path: { id } } };
  const status = () => client.call(client.api.GET('/api/v1/workflows/{id}/status', path));
  const first = (await status()).body;
  const view = emptyView(first);
  const display = options.json ? undefined : createDisplay(io, view);
  display?.lines([`watching run ${id} (${view.workflow}, ${view.tasks.length} tasks)`]);

  // One status fetch at a time; events that arrive meanwhile ask for one more afterwards.
  let fetching: Promise<void> | undefined;
  let again = false;
  const refresh = () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = (async () => {
      do {
        again = false;
        const record = await status().catch(() => undefined);
        if (record) display?.lines(mergeRecord(view, record.body));
      } while (again);
      fetching = undefined;
    })();
  };

  try {
    const stream = followSse({
      client,
      path: runPath(id, '/events'),
      signal: io.signal,
      maxRetryMs: options.maxRetryMs,
      isFinal: (m) => isFinalEvent(m.event),
      onReconnect: (attempt, reason) => display?.note(`event stream interrupted (${reason}); resuming (${attempt})`),
    });
    for await (const message of stream) {
      const event = JSON.parse(message.data) as AnyExecutionEvent;
      display?.lines(applyEvent(view, event));
      if (event.type === 'task.started' || event.type === 'workflow.resumed') refresh();
    }
  } finally {
    display?.stop();
  }
  await fetching;
  if (io.signal?.aborted) {
    io.err(`stopped watching; the run goes on: orchestrator status ${id}`);
    return DETACHED;
  }
  const record = (await client.call(client.api.GET('/api/v1/workflows/{id}', path))).body;
  if (!TERMINAL_STATUSES.has(record.status)) {
    io.err(`the event stream ended but run ${id} is still ${record.status}; follow it again with --watch`);
    return 1;
  }
  if (options.json) printJson(io, record);
  else printOutcome(io, record);
  return exitCodeFor(record.status);
}

interface Display {
  /** Plain lines of changes (ignored on a terminal, which redraws the frame instead). */
  lines(lines: string[]): void;
  /** A message that is not progress (a reconnect): a line of its own in both modes. */
  note(line: string): void;
  stop(): void;
}

function createDisplay(io: CliIo, view: RunView): Display {
  if (!io.tty) {
    return {
      lines: (lines) => {
        for (const line of lines) io.out(line);
      },
      note: (line) => io.err(line),
      stop: () => undefined,
    };
  }
  const color = useColor(io);
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    timer = undefined;
    const frame = renderFrame(view, {
      now: Date.now(),
      color,
      width: io.columns ?? 100,
      maxTasks: Math.max(3, (io.rows ?? 30) - 4),
    });
    // Back to the first line of the last frame (ESC [n F), clear to the end of the screen (ESC [J), draw again.
    const home = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '';
    frame.forEach((line, i) => {
      io.out(i === 0 ? `${home}${line}` : line);
    });
    drawn = frame.length;
  };
  const schedule = () => {
    timer ??= setTimeout(draw, 80);
  };
  // Running tasks' durations tick even when no event comes.
  const ticker = setInterval(schedule, 1000);
  draw();
  return {
    lines: (lines) => {
      if (lines.length > 0) schedule();
    },
    note: (line) => {
      drawn = 0; // the note scrolls the frame; draw the next one below it
      io.err(line);
      schedule();
    },
    stop: () => {
      clearInterval(ticker);
      if (timer) clearTimeout(timer);
      draw();
    },
  };
}
