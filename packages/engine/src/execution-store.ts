import { ValidationError } from '@orch/errors';
import type { RedisKeys } from '@orch/redis';
import type { ChainableCommander, Redis } from 'ioredis';
import type { ExecutionDefinition } from './execution-definition';
import {
  type ExecutionEvent,
  type ExecutionRecord,
  publicStatus,
  TASK_STATUSES,
  type TaskRecord,
  type TaskStatus,
} from './execution-record';

interface TaskState {
  s?: TaskStatus;
  a?: number;
  st?: number;
  ft?: number;
  e?: string;
  w?: string;
}

const iso = (ms: string | number | undefined) =>
  ms === undefined || ms === '' ? undefined : new Date(Number(ms)).toISOString();

/**
 * Reads and writes an execution's Redis keys outside the Lua scripts: the definition (cached, it never changes),
 * the record as the API shows it, and the event stream.
 */
export class ExecutionStore {
  private readonly cache = new Map<string, Promise<ExecutionDefinition>>();

  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
    private readonly cacheSize = 1000,
  ) {}

  /**
   * Writes the definition, the meta hash, the first event and the index entry in one MULTI. `seed` holds outputs
   * of tasks recorded as completed up front (a retry reusing checkpoints).
   */
  async create(
    def: ExecutionDefinition,
    extra: Record<string, string> = {},
    seed: Record<string, string> = {},
    /** Appends commands to the same MULTI (the admission script); every reply is returned, theirs last. */
    also?: (multi: ChainableCommander) => void,
  ): Promise<unknown[]> {
    const id = def.executionId;
    const meta: Record<string, string> = {
      status: 'pending',
      workflow_id: def.workflow.id,
      created_at: String(def.createdAt),
      total: String(Object.keys(def.tasks).length),
      ...extra,
    };
    if (def.workflow.name) meta.workflow_name = def.workflow.name;
    if (def.template) {
      meta.template_id = def.template.id;
      if (def.template.version) meta.template_version = def.template.version;
    }
    if (def.correlationId) meta.correlation_id = def.correlationId;
    const multi = this.redis
      .multi()
      .set(this.keys.def(id), JSON.stringify(def))
      .hset(this.keys.meta(id), meta)
      .xadd(this.keys.events(id), '*', 'type', 'workflow.created', 'at', String(def.createdAt))
      .zadd(this.keys.index(), def.createdAt, id);
    // Fan-in counters: each task waits for its dependencies that are not already completed (seeded by a retry).
    const waits: Record<string, number> = {};
    for (const task of Object.values(def.tasks)) {
      if (task.deps.length > 0) waits[task.id] = task.deps.filter((d) => seed[d] === undefined).length;
    }
    if (Object.keys(waits).length > 0) multi.hset(this.keys.waits(id), waits);
    const reused = Object.keys(seed);
    if (reused.length > 0) {
      const state = JSON.stringify({ s: 'completed', a: 0, reused: true });
      multi
        .hset(this.keys.finished(id), Object.fromEntries(reused.map((t) => [t, 'completed'])))
        .hset(this.keys.outputs(id), seed)
        .hset(this.keys.tasks(id), Object.fromEntries(reused.map((t) => [t, state])));
    }
    also?.(multi);
    const replies = (await multi.exec()) ?? [];
    this.remember(id, Promise.resolve(def));
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /** The compiled definition; cached per process since it is immutable. */
  definition(id: string): Promise<ExecutionDefinition> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const loading = this.redis.get(this.keys.def(id)).then((json) => {
      if (!json) throw new Error(`execution ${id} has no definition (expired or never created)`);
      return JSON.parse(json) as ExecutionDefinition;
    });
    loading.catch(() => this.cache.delete(id));
    this.remember(id, loading);
    return loading;
  }

  private remember(id: string, def: Promise<ExecutionDefinition>): void {
    this.cache.set(id, def);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  async meta(id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.meta(id));
  }

  /** The whole record in one round trip; undefined when the execution does not exist (or has expired). */
  async get(id: string, options: { outputs?: boolean } = {}): Promise<ExecutionRecord | undefined> {
    const pipeline = this.redis
      .pipeline()
      .hgetall(this.keys.meta(id))
      .get(this.keys.def(id))
      .hgetall(this.keys.tasks(id));
    if (options.outputs !== false) pipeline.hgetall(this.keys.outputs(id));
    const results = (await pipeline.exec()) ?? [];
    const [metaResult, defResult, tasksResult, outResult] = results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const meta = metaResult as Record<string, string>;
    if (!meta || Object.keys(meta).length === 0 || !defResult) return undefined;
    const def = JSON.parse(defResult as string) as ExecutionDefinition;
    const states = tasksResult as Record<string, string>;
    const outputs = (outResult ?? {}) as Record<string, string>;
    const progress = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as ExecutionRecord['progress'];
    progress.total = 0;
    const tasks: TaskRecord[] = def.workflow.tasks.map((t) => {
      const state: TaskState = states[t.id] ? JSON.parse(states[t.id] as string) : {};
      const status = state.s ?? 'pending';
      progress[status] += 1;
      progress.total += 1;
      const record: TaskRecord = { id: t.id, type: t.type, status, attempts: state.a ?? 0 };
      if (t.name) record.name = t.name;
      if (state.st) record.started_at = iso(state.st);
      if (state.ft) record.finished_at = iso(state.ft);
      if (state.st && state.ft) record.duration_ms = state.ft - state.st;
      if (state.e) record.error = state.e;
      if (state.w) record.worker = state.w;
      if (t.type === 'approval' && status === 'running' && !states[`@approval:${t.id}`]) {
        const params = (t.parameters ?? {}) as { message?: string; approvers?: string[] };
        record.waiting_for = { kind: 'approval', message: params.message, approvers: params.approvers };
      }
      if (outputs[t.id] !== undefined) record.output = JSON.parse(outputs[t.id] as string);
      return record;
    });
    const record: ExecutionRecord = {
      execution_id: id,
      status: publicStatus(meta.status ?? 'pending'),
      workflow: { id: def.workflow.id, ...(def.workflow.name ? { name: def.workflow.name } : {}) },
      variables: def.variables,
      created_at: iso(meta.created_at) as string,
      progress,
      tasks,
    };
    if (meta.correlation_id) record.correlation_id = meta.correlation_id;
    if (meta.request_id) record.request_id = meta.request_id;
    if (def.template) record.template = def.template;
    if (meta.started_at) record.started_at = iso(meta.started_at);
    if (meta.finished_at) record.finished_at = iso(meta.finished_at);
    if (meta.started_at && meta.finished_at) record.duration_ms = Number(meta.finished_at) - Number(meta.started_at);
    if (meta.error) record.error = meta.error;
    return record;
  }

  /**
   * Runs, newest first, optionally filtered by status and template. `cursor` is the `next_cursor` of the previous
   * page: a creation time and id, so pages stay stable while new runs arrive.
   */
  async list(
    options: { status?: string; template?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ items: ExecutionSummary[]; next_cursor?: string }> {
    const limit = Math.min(Math.max(options.limit ?? 20, 1), 200);
    const batch = limit * 2 + 1;
    const items: ExecutionSummary[] = [];
    let [max, after] = options.cursor ? splitCursor(options.cursor) : ['+inf', ''];
    for (;;) {
      const page = await this.redis.zrevrangebyscore(this.keys.index(), max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      const entries: [string, string][] = [];
      for (let i = 0; i + 1 < page.length; i += 2) entries.push([page[i] as string, page[i + 1] as string]);
      // Same-score members come in descending id order: those at or above the cursor's id were already returned.
      const fresh = entries.filter(([id, score]) => !(after && score === max && id >= after));
      if (fresh.length === 0) return { items };
      const pipeline = this.redis.pipeline();
      for (const [id] of fresh) {
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
      for (let i = 0; i < fresh.length; i++) {
        const [id, score] = fresh[i] as [string, string];
        [max, after] = [score, id];
        const [status, workflow, template, version, correlation, created, finished] = (metas[i]?.[1] ?? []) as (
          | string
          | null
        )[];
        if (!status) continue; // expired
        const summary: ExecutionSummary = {
          execution_id: id,
          status: publicStatus(status),
          workflow_id: workflow ?? '',
          created_at: iso(created ?? score) as string,
        };
        if (template) summary.template = { id: template, ...(version ? { version } : {}) };
        if (correlation) summary.correlation_id = correlation;
        if (finished) summary.finished_at = iso(finished);
        if (options.status && summary.status !== options.status) continue;
        if (options.template && template !== options.template) continue;
        items.push(summary);
        if (items.length === limit) return { items, next_cursor: `${max}:${after}` };
      }
      if (entries.length < batch) return { items };
    }
  }

  /** Events after `after` (exclusive; '0' for all), oldest first. */
  async events(id: string, after = '0', count = 1000): Promise<ExecutionEvent[]> {
    const start = after === '0' ? '-' : `(${after}`;
    const entries = await this.redis.xrange(this.keys.events(id), start, '+', 'COUNT', count);
    return entries.map(([entryId, fields]) => toEvent(entryId, fields));
  }
}

export interface ExecutionSummary {
  execution_id: string;
  status: string;
  workflow_id: string;
  template?: { id: string; version?: string };
  correlation_id?: string;
  created_at: string;
  finished_at?: string;
}

function splitCursor(cursor: string): [string, string] {
  const at = cursor.indexOf(':');
  const score = at > 0 ? cursor.slice(0, at) : '';
  if (!/^\d+$/.test(score))
    throw new ValidationError('invalid cursor', [
      { pointer: '/cursor', message: 'must be a next_cursor returned by this endpoint' },
    ]);
  return [score, cursor.slice(at + 1)];
}

export function toEvent(id: string, fields: string[]): ExecutionEvent {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
  const event: ExecutionEvent = { id, type: map.type ?? 'unknown', at: iso(map.at) ?? '' };
  if (map.task) event.task = map.task;
  if (map.attempt && map.attempt !== '0') event.attempt = Number(map.attempt);
  if (map.error) event.error = map.error;
  if (map.worker) event.worker = map.worker;
  return event;
}
