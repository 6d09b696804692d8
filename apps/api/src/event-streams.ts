import type { WorkflowEngine } from '@orch/engine';
import { NotFoundError, OrchestratorError, ValidationError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import type { RedisClient } from '@orch/redis';
import { type ExecutionEvent, isFinalEvent, isFinalStatus } from '@orch/run-model';

/** Where a stream's text goes: an HTTP response in the app, an array in a test. */
export interface SseSink {
  /** Returns false when the client's buffer is full; `drained` then resolves once it has room. */
  write(chunk: string): boolean;
  drained(): Promise<void>;
  end(): void;
  onClose(listener: () => void): void;
}

export interface EventStreamsOptions {
  engine: WorkflowEngine;
  /** A new connection for one stream's XREAD BLOCK; a blocked client can serve nobody else. */
  connect: () => RedisClient;
  logger: Logger;
  /** Silence after which a comment line is sent, so proxies keep the connection open. */
  heartbeatMs?: number;
  /** Each stream holds a Redis connection: past this many, new ones get a 503. */
  maxStreams?: number;
}

/** A checked stream request: the run exists and `after` is a stream id ('0' for everything). */
export interface StreamPlan {
  executionId: string;
  after: string;
  /** The client already has the run's last event: nothing to send (204 tells EventSource not to reconnect). */
  finished: boolean;
}

/** What a stream's body sees of its stream: whether it was stopped, and its own blocking Redis connection. */
export interface StreamHandle {
  readonly stopped: boolean;
  /** The stream's dedicated connection (made on first call), for XREAD BLOCK; let go when the stream ends. */
  connect(): RedisClient;
  /** Silence after which a comment line is sent. */
  heartbeatMs: number;
}

interface LiveStream {
  stopped: boolean;
  connection?: RedisClient;
  done: Promise<void>;
  stop(): void;
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_ID_PART = 2n ** 64n - 1n;

/**
 * A Redis stream id `<ms>-<seq>`, each part a 64-bit unsigned integer; the largest id of all is refused too, since
 * nothing can come after it (Redis rejects it as an exclusive range start).
 */
function isStreamId(text: string): boolean {
  const match = STREAM_ID.exec(text);
  if (!match) return false;
  const [ms, seq] = [BigInt(match[1] as string), BigInt(match[2] as string)];
  return ms <= MAX_ID_PART && seq <= MAX_ID_PART && !(ms === MAX_ID_PART && seq === MAX_ID_PART);
}
const PAGE = 500;

const isFinal = (event: ExecutionEvent) => isFinalEvent(event.type);

/**
 * Server-Sent Events of runs: replays a run's event stream after `Last-Event-ID`, then follows it live with XREAD
 * BLOCK until the run's final event. Every event's SSE `id` is its Redis stream id, so a client that reconnects
 * resumes exactly where it left off. Tracks open streams so shutdown can end them.
 */
export class EventStreams {
  private readonly live = new Set<LiveStream>();
  private closing = false;
  private readonly heartbeatMs: number;
  private readonly maxStreams: number;

  constructor(private readonly options: EventStreamsOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxStreams = options.maxStreams ?? 1000;
  }

  get size(): number {
    return this.live.size;
  }

  /** Checks the request before any byte is sent, so errors still get a JSON body and status. */
  async plan(executionId: string, lastEventId: string | undefined): Promise<StreamPlan> {
    if (lastEventId !== undefined && !isStreamId(lastEventId)) {
      throw new ValidationError('invalid Last-Event-ID header', [
        {
          pointer: '/headers/last-event-id',
          message: 'must be an event id sent by this stream, such as 1700000000000-0',
        },
      ]);
    }
    this.admit();
    const { engine } = this.options;
    const status = await engine.status(executionId);
    if (!status) throw new NotFoundError('execution', executionId);
    const after = lastEventId ?? '0';
    const finished =
      lastEventId !== undefined && isFinalStatus(status) && (await engine.events(executionId, after, 1)).length === 0;
    return { executionId, after, finished };
  }

  /** Refuses a new stream (503) while the server shuts down or when MAX streams are open. */
  admit(): void {
    if (this.closing) {
      throw new OrchestratorError('SERVICE_UNAVAILABLE', 'the server is shutting down', { retryAfterS: 1 });
    }
    if (this.live.size >= this.maxStreams) {
      throw new OrchestratorError('SERVICE_UNAVAILABLE', `too many event streams open (${this.maxStreams})`, {
        retryAfterS: 5,
      });
    }
  }

  /** Sends the plan's events to `sink` and ends it after the run's final event, or when the client leaves. */
  pipe(plan: StreamPlan, sink: SseSink): Promise<void> {
    return this.run(sink, plan.executionId, (stream) => this.follow(plan, sink, stream));
  }

  /**
   * Runs one stream's `body` as a tracked stream: shutdown ends it, the client leaving stops it, its Redis
   * connection (from `connect`) is let go at the end, and the sink is ended whatever happened.
   */
  async run(sink: SseSink, executionId: string, body: (stream: StreamHandle) => Promise<void>): Promise<void> {
    let finish: () => void = () => undefined;
    // Once only: a second disconnect of an ioredis client arms a 2 s timer for a 'close' that already happened.
    let released = false;
    const release = () => {
      if (released || !stream.connection) return;
      released = true;
      stream.connection.disconnect();
    };
    const stream: LiveStream = {
      stopped: false,
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
      stop() {
        stream.stopped = true;
        release(); // rejects a pending XREAD at once
      },
    };
    this.live.add(stream);
    sink.onClose(() => stream.stop());
    let failed = false;
    const handle: StreamHandle = {
      get stopped() {
        return stream.stopped;
      },
      connect: () => {
        stream.connection ??= this.options.connect();
        return stream.connection;
      },
      heartbeatMs: this.heartbeatMs,
    };
    try {
      await body(handle);
    } catch (error) {
      if (!stream.stopped) {
        failed = true;
        this.options.logger.warn('event stream failed', {
          execution_id: executionId,
          error: (error as Error).message,
        });
      }
    } finally {
      this.live.delete(stream);
      release();
      sink.end();
      const reason = failed ? 'error' : !stream.stopped ? 'run ended' : this.closing ? 'server closing' : 'client left';
      this.options.logger.debug('event stream closed', { execution_id: executionId, reason });
      finish();
    }
  }

  private async follow(plan: StreamPlan, sink: SseSink, stream: StreamHandle): Promise<void> {
    const { engine } = this.options;
    const id = plan.executionId;
    const send = async (event: ExecutionEvent): Promise<boolean> => {
      if (!sink.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)) {
        await sink.drained();
      }
      return isFinal(event);
    };
    sink.write('retry: 3000\n\n');
    let last = plan.after;
    /** Sends what the stream holds after `last`; true once the final event went out or the client left. */
    const replay = async (): Promise<boolean> => {
      for (;;) {
        const page = await engine.events(id, last, PAGE);
        for (const event of page) {
          if (stream.stopped) return true;
          last = event.id;
          if (await send(event)) return true;
        }
        if (page.length < PAGE) return false;
      }
    };
    if (await replay()) return;
    // A run that ended between the replay and this read has its final event after `last`; one more pass gets it.
    if (isFinalStatus(await engine.status(id))) {
      await replay();
      return;
    }
    const connection = stream.connect();
    if (stream.stopped) return;
    while (!stream.stopped) {
      const events = await engine.waitForEvents(connection, id, last, {
        count: PAGE,
        blockMs: this.heartbeatMs,
      });
      if (stream.stopped) return;
      if (!events) {
        sink.write(': heartbeat\n\n');
        // The run's keys expire after its TTL; a stream that outlives them would wait forever.
        if (!(await engine.exists(id))) return;
        continue;
      }
      for (const event of events) {
        last = event.id;
        if (await send(event)) return;
      }
    }
  }

  /** Refuses new streams and ends the open ones (clients reconnect elsewhere with Last-Event-ID). Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const open = [...this.live];
    for (const stream of open) stream.stop();
    await Promise.all(open.map((s) => s.done));
  }
}
