import type { TaskLogOptions } from '@orch/core';
import type { Logger } from '@orch/logger';
import {
  type AttemptEnding,
  TASK_LOG_LEVELS,
  TASK_LOG_STREAMS,
  type TaskLogLevel,
  type TaskLogStream,
} from '@orch/run-model';
import type { LogEntryInput } from './log-entry';
import type { TaskLogStore } from './task-log-store';

/** A longer line is cut here (with a note of how much was cut), so one line cannot take a whole attempt's cap. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;
const STREAMS: ReadonlySet<string> = new Set(TASK_LOG_STREAMS);
const LEVELS: ReadonlySet<string> = new Set(TASK_LOG_LEVELS);
/** Entries per append: one script call each. */
const BATCH = 500;

/**
 * One task attempt's log as its handler writes it (`ctx.log`): lines queue at once and are appended in order, a batch
 * per round trip, so a chatty handler does not wait on Redis; `end` writes how the attempt ended after the rest.
 * A failed append is reported on the worker's log, never to the handler: a task does not fail for its log.
 */
export class AttemptLog {
  private queue: LogEntryInput[] = [];
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  private written = false;
  /** What this attempt has queued so far, counted as append-log counts it. */
  private bytes = 0;
  private warned = false;

  constructor(
    private readonly store: TaskLogStore,
    private readonly executionId: string,
    private readonly taskId: string,
    private readonly attempt: number,
    private readonly logger: () => Logger,
  ) {}

  /** The handler's `ctx.log`. */
  readonly write = (message: string, options: TaskLogOptions = {}): void => {
    // Past the cap Redis keeps nothing more (append-log writes the marker): stop queueing what it would drop.
    if (this.ended || this.bytes > this.store.capBytes + MAX_LOG_LINE_CHARS) return;
    const text = String(message);
    this.bytes += Math.min(text.length, MAX_LOG_LINE_CHARS) + 16;
    this.push({
      stream: STREAMS.has(options.stream as string) ? (options.stream as TaskLogStream) : 'log',
      level: LEVELS.has(options.level as string) ? (options.level as TaskLogLevel) : 'info',
      text:
        text.length > MAX_LOG_LINE_CHARS
          ? `${text.slice(0, MAX_LOG_LINE_CHARS)}… (${text.length - MAX_LOG_LINE_CHARS} more characters cut)`
          : text,
      at: Date.now(),
    });
  };

  /**
   * Writes how the attempt ended, after every line before it; resolves once written (or given up). An attempt that
   * wrote nothing writes no end either (a log reader learns it ended from the task's state): no round trip per task.
   */
  end(ending: AttemptEnding): Promise<void> {
    if (this.ended || !this.written) return this.chain;
    this.push({ stream: 'end', level: ending, text: '', at: Date.now() });
    this.ended = true;
    return this.chain;
  }

  private push(entry: LogEntryInput): void {
    this.written = true;
    this.queue.push(entry);
    if (this.queue.length === 1) this.chain = this.chain.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      try {
        await this.store.append(this.executionId, this.taskId, this.attempt, batch);
      } catch (error) {
        if (!this.warned)
          this.logger().warn('task log lines were not written', {
            error: (error as Error).message,
            lines: batch.length,
          });
        this.warned = true;
      }
    }
  }
}
