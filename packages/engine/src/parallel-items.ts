import { NotFoundError, ValidationError } from '@orch/errors';
import { Job } from 'bullmq';
import type { EngineContext } from './engine-context';
import { jobIds } from './task-job';

export type ItemStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface TaskItem {
  index: number;
  status: ItemStatus;
  attempts: number;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  /** A completed item's output (its job's return value). */
  output?: unknown;
}

/** The sub-tasks of one attempt of a `parallel` task: counts by status for all of them, details for one page. */
export interface TaskItems {
  execution_id: string;
  task: string;
  attempt: number;
  total: number;
  counts: Record<ItemStatus, number>;
  offset: number;
  items: TaskItem[];
}

export interface TaskItemsQuery {
  attempt?: unknown;
  offset?: unknown;
  limit?: unknown;
}

/** The engine refuses more for_each items than this; probing stops there too. */
const MAX_ITEMS = 10_000;
const PROBE_BATCH = 500;
const MAX_PAGE = 500;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function statusOf(processedOn: unknown, finishedOn: unknown, failed: boolean): ItemStatus {
  // `failedReason` stays on a job that failed an attempt and then completed: the failed set is what tells.
  if (finishedOn) return failed ? 'failed' : 'completed';
  // Processed but not finished: running now, or waiting out a retry's backoff.
  return processedOn ? 'running' : 'pending';
}

/**
 * Reads a parallel task's sub-task jobs, which the run record does not hold: BullMQ children of the task's job (ids
 * from `jobIds.subTask`), kept for the run's TTL. Their count is not stored, so it is found by probing ids in
 * batches; the job hashes' `processedOn`/`finishedOn` and the queue's failed set give the counts, and BullMQ's Job
 * the details of the page asked for. Read-only.
 */
export async function parallelItems(
  ctx: EngineContext,
  id: string,
  task: string,
  query: TaskItemsQuery,
): Promise<TaskItems> {
  if (!(await ctx.store.hasDefinition(id))) throw new NotFoundError('execution', id);
  const def = await ctx.store.definition(id);
  const compiled = Object.hasOwn(def.tasks, task) ? def.tasks[task] : undefined;
  if (compiled?.type !== 'parallel') throw new NotFoundError(`parallel task of execution ${id}`, task);
  const record = await ctx.store.get(id, { outputs: false });
  const latest = Math.max(1, record?.tasks.find((t) => t.id === task)?.attempts ?? 1);
  const attempt = integer(query.attempt, latest, '/attempt', 1, compiled.attempts);
  const offset = integer(query.offset, 0, '/offset', 0, MAX_ITEMS);
  const limit = integer(query.limit, 200, '/limit', 1, MAX_PAGE);
  const queue = ctx.queues.taskQueue(compiled.queue);
  // The engine's own connection: the same Redis as the queue's, and a plain client (no BullMQ scripts to copy).
  const client = ctx.redis;
  const itemId = (i: number) => jobIds.subTask(jobIds.task(id, task), attempt, i);
  const failedSet = queue.toKey('failed');

  const rows: ItemStatus[] = [];
  for (let from = 0; from < MAX_ITEMS; from += PROBE_BATCH) {
    const pipeline = client.pipeline();
    for (let i = from; i < from + PROBE_BATCH; i++) {
      pipeline.hmget(queue.toKey(itemId(i)), 'timestamp', 'processedOn', 'finishedOn');
      pipeline.zscore(failedSet, itemId(i));
    }
    const replies = (await pipeline.exec()) ?? [];
    let ended = false;
    for (let r = 0; r + 1 < replies.length; r += 2) {
      const [error, value] = replies[r] as [Error | null, unknown];
      const [zError, score] = replies[r + 1] as [Error | null, unknown];
      if (error || zError) throw error ?? zError;
      const [timestamp, processedOn, finishedOn] = value as (string | null)[];
      if (!timestamp) {
        ended = true;
        break;
      }
      rows.push(statusOf(processedOn, finishedOn, score !== null));
    }
    if (ended) break;
  }
  const counts: Record<ItemStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0 };
  for (const status of rows) counts[status]++;

  const page = Array.from({ length: Math.max(0, Math.min(limit, rows.length - offset)) }, (_, k) => offset + k);
  const jobs = await Promise.all(page.map((i) => Job.fromId(queue, itemId(i))));
  const items = page.map((index, k): TaskItem => {
    const job = jobs[k];
    if (!job) return { index, status: 'pending', attempts: 0 };
    const status = rows[index] as ItemStatus;
    const item: TaskItem = { index, status, attempts: job.attemptsMade + (status === 'running' ? 1 : 0) };
    const started = iso(job.processedOn);
    const finished = iso(job.finishedOn);
    if (started) item.started_at = started;
    if (finished) item.finished_at = finished;
    if (job.processedOn && job.finishedOn) item.duration_ms = job.finishedOn - job.processedOn;
    if (job.failedReason && status !== 'completed') item.error = job.failedReason;
    if (status === 'completed' && job.returnvalue !== undefined) item.output = job.returnvalue;
    return item;
  });
  return { execution_id: id, task, attempt, total: rows.length, counts, offset, items };
}

function integer(value: unknown, fallback: number, pointer: string, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError('invalid query', [{ pointer, message: `must be an integer from ${min} to ${max}` }]);
  }
  return n;
}
