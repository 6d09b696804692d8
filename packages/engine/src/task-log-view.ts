import { NotFoundError } from '@orch/errors';
import type { RedisClient } from '@orch/redis';
import { isFinalStatus, isTaskFinalStatus, type TaskLogPage } from '@orch/run-model';
import type { EngineContext } from './engine-context';
import { taskOf } from './execution-definition';
import type { LogRead } from './task-log-store';

export interface TaskLogQuery {
  /** Default: the task's latest attempt. */
  attempt?: number;
  /** A line id: only lines after it (exclusive). */
  after?: string;
  /** Lines per page; default 1000. */
  limit?: number;
}

/** A parallel task's item is `<task>[<index>]`: its logs are its own, under the parallel task. */
const ITEM = /^(.+)\[(\d{1,9})\]$/;

/** The task whose logs these are: a task or exit handler of the run, or an item of one of its parallel tasks. */
async function checkTask(ctx: EngineContext, id: string, task: string): Promise<{ parent: string }> {
  if (!(await ctx.store.hasDefinition(id))) throw new NotFoundError('execution', id);
  const def = await ctx.store.definition(id);
  const item = ITEM.exec(task);
  const parent = item ? (item[1] as string) : task;
  const found = taskOf(def, parent);
  if (!found || (item && found.type !== 'parallel')) throw new NotFoundError('task', task);
  return { parent };
}

/**
 * Whether an attempt is over although its log does not say so (it wrote nothing, or its worker died): the run
 * ended, the task ended, or a later attempt started. An item's attempt ends with its parallel task at the latest.
 */
async function attemptOver(ctx: EngineContext, id: string, parent: string, task: string, attempt: number) {
  const progress = await ctx.logs.progress(id, parent);
  if (isFinalStatus(progress.runStatus) || progress.runStatus === undefined) return true;
  if (isTaskFinalStatus(progress.taskStatus)) return true;
  return parent === task && progress.attempt > attempt;
}

/** One page of a task attempt's log (`GET /api/v1/workflows/{id}/tasks/{task}/logs`). */
export async function taskLogPage(
  ctx: EngineContext,
  id: string,
  task: string,
  query: TaskLogQuery = {},
): Promise<TaskLogPage> {
  const { parent } = await checkTask(ctx, id, task);
  const [logged, progress] = await Promise.all([ctx.logs.attempts(id, task), ctx.logs.progress(id, parent)]);
  const latest = Math.max(parent === task ? progress.attempt : 0, logged.at(-1)?.attempt ?? 0, 1);
  const attempt = query.attempt ?? latest;
  const read = await ctx.logs.read(id, task, attempt, query.after ?? '0', query.limit ?? 1000);
  const ended = read.ending !== undefined || (!read.more && (await attemptOver(ctx, id, parent, task, attempt)));
  const page: TaskLogPage = {
    execution_id: id,
    task,
    attempt,
    attempts: logged.map((a) => a.attempt),
    lines: read.lines,
    ended,
    capped: logged.some((a) => a.attempt === attempt && a.capped),
  };
  if (read.ending) page.ending = read.ending;
  if (read.more && read.last) page.next_after = read.last;
  return page;
}

/** Follows one attempt's log: what `taskLogPage` checked, then waits for more. */
export class TaskLogFollower {
  private constructor(
    private readonly ctx: EngineContext,
    readonly executionId: string,
    readonly task: string,
    readonly attempt: number,
    private readonly parent: string,
  ) {}

  /** Checks the run and task exist and picks the attempt (default: the latest). */
  static async open(ctx: EngineContext, id: string, task: string, attempt?: number): Promise<TaskLogFollower> {
    const { parent } = await checkTask(ctx, id, task);
    if (attempt === undefined) {
      const [logged, progress] = await Promise.all([ctx.logs.attempts(id, task), ctx.logs.progress(id, parent)]);
      attempt = Math.max(parent === task ? progress.attempt : 0, logged.at(-1)?.attempt ?? 0, 1);
    }
    return new TaskLogFollower(ctx, id, task, attempt, parent);
  }

  read(after: string, count: number): Promise<LogRead> {
    return this.ctx.logs.read(this.executionId, this.task, this.attempt, after, count);
  }

  /** Blocks `connection` up to `blockMs` for entries after `after`; null when none came. */
  wait(connection: RedisClient, after: string, options: { count: number; blockMs: number }): Promise<LogRead | null> {
    return this.ctx.logs.wait(connection, this.executionId, this.task, this.attempt, after, options);
  }

  /** The attempt is over though its log did not say so (see `attemptOver`). */
  over(): Promise<boolean> {
    return attemptOver(this.ctx, this.executionId, this.parent, this.task, this.attempt);
  }
}
