import type { TaskLogFollower } from '@orch/engine';
import { ValidationError } from '@orch/errors';
import type { AttemptEnding, TaskLogEnd, TaskLogLine } from '@orch/run-model';
import type { Request, Response } from 'express';
import type { SseSink, StreamHandle } from './event-streams';
import type { HandlerDeps } from './handlers/handler';
import { checkRequest, taskLogsQuery, typedQuery } from './request-schemas';

const PAGE = 500;
/** How long one XREAD BLOCK waits before the follower asks whether the attempt is over without saying so. */
const POLL_MS = 1000;
const LINE_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * `GET /api/v1/workflows/{id}/tasks/{task}/logs`: one page of an attempt's log as JSON, or with `follow=true` the
 * attempt's lines as Server-Sent Events, live until it is over.
 */
export async function serveTaskLogs(
  req: Request,
  res: Response,
  deps: HandlerDeps,
  sinkOf: (res: Response) => SseSink,
): Promise<void> {
  const query = checkRequest(taskLogsQuery, typedQuery(taskLogsQuery, req.query), 'query string');
  const id = req.params.id as string;
  const task = req.params.task as string;
  if (query.follow !== 'true') {
    const page = await deps.engine.taskLogs(id, task, {
      attempt: query.attempt,
      after: query.after,
      limit: query.limit,
    });
    res.status(200).json(page);
    return;
  }
  const header = req.headers['last-event-id'];
  const lastEventId = Array.isArray(header) ? header[0] : header;
  if (lastEventId !== undefined && !LINE_ID.test(lastEventId)) {
    throw new ValidationError('invalid Last-Event-ID header', [
      { pointer: '/headers/last-event-id', message: 'must be a line id sent by this stream, such as 1700000000000-0' },
    ]);
  }
  deps.streams.admit();
  const follower = await deps.engine.followTaskLogs(id, task, query.attempt);
  const after = lastEventId ?? query.after ?? '0';
  if (lastEventId !== undefined) {
    const next = await follower.read(after, 1);
    // The client has every line of an attempt that is over: 204 tells EventSource not to reconnect.
    if (next.lines.length === 0 && (next.ending !== undefined || (await follower.over()))) {
      res.status(204).end();
      return;
    }
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const sink = sinkOf(res);
  await deps.streams.run(sink, id, (stream) => followLog(follower, after, sink, stream));
}

/** Replays the attempt's lines after `after`, then follows them live; `event: end` once the attempt is over. */
async function followLog(follower: TaskLogFollower, after: string, sink: SseSink, stream: StreamHandle): Promise<void> {
  const send = async (chunk: string) => {
    if (!sink.write(chunk)) await sink.drained();
  };
  const sendLines = async (lines: TaskLogLine[]) => {
    for (const line of lines) {
      if (stream.stopped) return;
      await send(`id: ${line.id}\nevent: line\ndata: ${JSON.stringify(line)}\n\n`);
    }
  };
  let last = after;
  let ending: AttemptEnding | undefined;
  /** Sends what the log holds after `last`; true once it said how the attempt ended. */
  const replay = async (): Promise<boolean> => {
    for (;;) {
      const read = await follower.read(last, PAGE);
      await sendLines(read.lines);
      last = read.last ?? last;
      ending = read.ending;
      if (ending || !read.more || stream.stopped) return ending !== undefined;
    }
  };
  await send('retry: 3000\n\n');
  let over = await replay();
  let silentMs = 0;
  while (!over && !stream.stopped) {
    const blockMs = Math.min(POLL_MS, stream.heartbeatMs);
    const read = await follower.wait(stream.connect(), last, { count: PAGE, blockMs });
    if (stream.stopped) return;
    if (read) {
      await sendLines(read.lines);
      last = read.last ?? last;
      ending = read.ending;
      over = ending !== undefined;
      silentMs = 0;
      continue;
    }
    if (await follower.over()) {
      // Lines written between the last read and the check.
      await replay();
      break;
    }
    silentMs += blockMs;
    if (silentMs >= stream.heartbeatMs) {
      await send(': heartbeat\n\n');
      silentMs = 0;
    }
  }
  if (stream.stopped) return;
  const end: TaskLogEnd = ending ? { attempt: follower.attempt, ending } : { attempt: follower.attempt };
  await send(`event: end\ndata: ${JSON.stringify(end)}\n\n`);
}
