import type { RedisClient, RedisKeys } from '@orch/redis';
import type { AttemptEnding, TaskLogLevel, TaskLogLine, TaskLogStream } from '@orch/run-model';
import type { LogEntryInput } from './log-entry';
import type { RunScripts } from './run-scripts';

/** What one read of an attempt's log found: its lines, and how the attempt ended when the log says so. */
export interface LogRead {
  lines: TaskLogLine[];
  /** The id of the last entry read (a line or the end entry): where the next read starts. */
  last?: string;
  ending?: AttemptEnding;
  /** The read stopped at `count` entries: there may be more. */
  more: boolean;
}

/** What the run's log index says of one attempt. */
export interface LoggedAttempt {
  attempt: number;
  /** The cap was hit: a marker line says so and later lines were dropped. */
  capped: boolean;
}

type StreamEntry = [string, string[]];

/** The glob characters of HSCAN MATCH, escaped, so a task id like `t[3]` matches only itself. */
const globLiteral = (text: string) => text.replace(/[\\*?[\]]/g, (c) => `\\${c}`);

/**
 * The task logs of runs: one capped stream per task attempt (`RedisKeys.taskLog`), named in the run's log index,
 * given the run's TTL when it ends (and at once when written after its end). The only code that reads those keys.
 */
export class TaskLogStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly scripts: RunScripts,
    /** TASK_LOG_MAX_BYTES: what one attempt's log may hold. */
    readonly capBytes: number,
  ) {}

  /** Appends entries to an attempt's log within the cap; nothing is written for a run that no longer exists. */
  append(id: string, task: string, attempt: number, entries: readonly LogEntryInput[]): Promise<number> {
    return this.scripts.appendLog(id, {
      taskId: task,
      attempt,
      cap: this.capBytes,
      marker: `log cap reached: this attempt's log holds at most ${this.capBytes} bytes (TASK_LOG_MAX_BYTES); later lines were dropped`,
      entries,
    });
  }

  /** The task's attempts that have a log, oldest first. */
  async attempts(id: string, task: string): Promise<LoggedAttempt[]> {
    const found: LoggedAttempt[] = [];
    let cursor = '0';
    do {
      const [next, pairs] = await this.redis.hscan(
        this.keys.taskLogs(id),
        cursor,
        'MATCH',
        `${globLiteral(task)}:*`,
        'COUNT',
        500,
      );
      for (let i = 0; i < pairs.length; i += 2) {
        const field = pairs[i] as string;
        const attempt = Number(field.slice(field.lastIndexOf(':') + 1));
        if (field.slice(0, field.lastIndexOf(':')) !== task || !Number.isInteger(attempt)) continue;
        found.push({ attempt, capped: Number(pairs[i + 1]) > this.capBytes });
      }
      cursor = next;
    } while (cursor !== '0');
    return found.sort((a, b) => a.attempt - b.attempt);
  }

  /** Up to `count` entries after `after` (exclusive; '0' for all). */
  async read(id: string, task: string, attempt: number, after: string, count: number): Promise<LogRead> {
    const entries = (await this.redis.xrange(
      this.keys.taskLog(id, task, attempt),
      after === '0' ? '-' : `(${after}`,
      '+',
      'COUNT',
      count,
    )) as StreamEntry[];
    return { ...toRead(entries), more: entries.length === count };
  }

  /** Waits up to `blockMs` on `connection` (which then serves nobody else) for entries after `after`. */
  async wait(
    connection: RedisClient,
    id: string,
    task: string,
    attempt: number,
    after: string,
    options: { count: number; blockMs: number },
  ): Promise<LogRead | null> {
    const reply = (await connection.xread(
      'COUNT',
      options.count,
      'BLOCK',
      options.blockMs,
      'STREAMS',
      this.keys.taskLog(id, task, attempt),
      after === '0' ? '0-0' : after,
    )) as [string, StreamEntry[]][] | null;
    if (!reply) return null;
    const entries = reply[0]?.[1] ?? [];
    return { ...toRead(entries), more: entries.length === options.count };
  }

  /**
   * What tells whether an attempt is over when its log does not say (it wrote nothing, or its worker died): the run's
   * status, and the task's status and latest attempt (read-only, from the run's task states).
   */
  async progress(id: string, task: string): Promise<{ runStatus?: string; taskStatus?: string; attempt: number }> {
    const [[, status], [, raw]] = (await this.redis
      .pipeline()
      .hget(this.keys.meta(id), 'status')
      .hget(this.keys.tasks(id), task)
      .exec()) as [[unknown, string | null], [unknown, string | null]];
    const state = raw ? (JSON.parse(raw) as { s?: string; a?: number }) : {};
    return { runStatus: status ?? undefined, taskStatus: state.s, attempt: state.a ?? 0 };
  }

  /**
   * Gives the run's log streams `ttlMs` to live: the run has ended. `fields` are its index's fields, as finalize read
   * them (which gave the index itself the TTL); a run that logged nothing costs no round trip.
   */
  async expire(id: string, ttlMs: number, fields: readonly string[]): Promise<void> {
    if (fields.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const field of fields) {
      const at = field.lastIndexOf(':');
      pipeline.pexpire(this.keys.taskLog(id, field.slice(0, at), Number(field.slice(at + 1))), ttlMs);
    }
    await pipeline.exec();
  }
}

function toRead(entries: StreamEntry[]): Omit<LogRead, 'more'> {
  const lines: TaskLogLine[] = [];
  let ending: AttemptEnding | undefined;
  for (const [entryId, fields] of entries) {
    const field = (name: string) => {
      const i = fields.indexOf(name);
      return i >= 0 && i % 2 === 0 ? (fields[i + 1] ?? '') : '';
    };
    const at = new Date(Number(field('t')) || Number(entryId.split('-')[0])).toISOString();
    if (field('s') === 'end') ending = field('l') as AttemptEnding;
    else
      lines.push({
        id: entryId,
        at,
        stream: field('s') as TaskLogStream,
        level: field('l') as TaskLogLevel,
        message: field('m'),
      });
  }
  return { lines, last: entries.at(-1)?.[0], ending };
}
