import { ValidationError } from '@orch/errors';
import type { RedisClient, RedisKeys } from '@orch/redis';
import { type ExecutionSummary, publicStatus } from '@orch/run-model';
import { iso } from './run-record-view';

export interface ListOptions {
  status?: string;
  template?: string;
  limit?: number;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
}

/** A listed run and the cursor that lists the runs after it. */
export interface IndexedRun {
  summary: ExecutionSummary;
  cursor: string;
}

/** A page holds 20 runs unless asked for 1 to 200. */
export const listLimit = (limit: number | undefined): number => Math.min(Math.max(limit ?? 20, 1), 200);

/** A partition's index of runs by creation time (part of the store: it reads each listed run's meta). */
export class RunIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Runs, newest first, optionally filtered by status and template. `cursor` is a creation time and id, so pages
   * stay stable while new runs arrive.
   */
  async list(options: ListOptions = {}): Promise<{ items: ExecutionSummary[]; next_cursor?: string }> {
    const page = await this.page(options);
    return { items: page.items.map((i) => i.summary), ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}) };
  }

  /** `list`, with each item's own cursor (its creation time and id), so pages of several partitions can be merged. */
  async page(options: ListOptions = {}): Promise<{ items: IndexedRun[]; next_cursor?: string }> {
    const limit = listLimit(options.limit);
    const batch = limit * 2 + 1;
    const items: IndexedRun[] = [];
    let [max, after] = options.cursor ? splitCursor(options.cursor) : ['+inf', ''];
    for (;;) {
      const page = await this.redis.zrevrangebyscore(this.keys.index(), max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      const entries: [string, string][] = [];
      for (let i = 0; i + 1 < page.length; i += 2) entries.push([page[i] as string, page[i + 1] as string]);
      // Same-score members come in descending id order: those at or above the cursor's id were already returned.
      const fresh = entries.filter(([id, score]) => !(after && score === max && id >= after));
      if (fresh.length === 0) return { items };
      const summaries = await this.summaries(fresh);
      for (let i = 0; i < fresh.length; i++) {
        const [id, score] = fresh[i] as [string, string];
        [max, after] = [score, id];
        const summary = summaries[i];
        if (!summary) continue; // expired
        if (options.status && summary.status !== options.status) continue;
        if (options.template && summary.template?.id !== options.template) continue;
        items.push({ summary, cursor: `${max}:${after}` });
        if (items.length === limit) return { items, next_cursor: `${max}:${after}` };
      }
      if (entries.length < batch) return { items };
    }
  }

  private async summaries(runs: [string, string][]): Promise<(ExecutionSummary | undefined)[]> {
    const pipeline = this.redis.pipeline();
    for (const [id] of runs) {
      pipeline.hmget(
        this.keys.meta(id),
        'status',
        'workflow_id',
        'template_id',
        'template_version',
        'correlation_id',
        'created_at',
        'finished_at',
      );
    }
    const metas = (await pipeline.exec()) ?? [];
    return runs.map(([id, score], i) => {
      const [status, workflow, template, version, correlation, created, finished] = (metas[i]?.[1] ?? []) as (
        | string
        | null
      )[];
      if (!status) return undefined;
      const summary: ExecutionSummary = {
        execution_id: id,
        status: publicStatus(status),
        workflow_id: workflow ?? '',
        created_at: iso(created ?? score) as string,
      };
      if (template) summary.template = { id: template, ...(version ? { version } : {}) };
      if (correlation) summary.correlation_id = correlation;
      if (finished) summary.finished_at = iso(finished);
      return summary;
    });
  }

  /** Runs created at or after `since` (epoch ms). */
  async createdSince(since: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.index(), since, '+inf');
  }

  /** Drops the entries of runs created before `before` whose keys have expired; returns them. */
  async dropExpired(before: number, batch = 5000): Promise<string[]> {
    const old = await this.redis.zrangebyscore(this.keys.index(), '-inf', before, 'LIMIT', 0, batch);
    if (old.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of old) pipeline.exists(this.keys.meta(id));
    const exists = (await pipeline.exec()) ?? [];
    const gone = old.filter((_, i) => exists[i]?.[1] === 0);
    if (gone.length > 0) await this.redis.zrem(this.keys.index(), ...gone);
    return gone;
  }
}

export function splitCursor(cursor: string): [string, string] {
  const at = cursor.indexOf(':');
  const score = at > 0 ? cursor.slice(0, at) : '';
  if (!/^\d+$/.test(score))
    throw new ValidationError('invalid cursor', [
      { pointer: '/cursor', message: 'must be a next_cursor returned by this endpoint' },
    ]);
  return [score, cursor.slice(at + 1)];
}
