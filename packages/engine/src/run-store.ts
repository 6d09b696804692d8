import { type RedisClient, type RedisKeys, taskNoteField, waitForReplicas } from '@orch/redis';
import type { EventType, ExecutionEvent, ExecutionRecord, InternalStatus, TaskFinalStatus } from '@orch/run-model';
import { DefinitionCache } from './definition-cache';
import type { ExecutionDefinition, RunClaim } from './execution-definition';
import {
  type CreateRunInput,
  type CreateRunReply,
  creationLayout,
  eventFields,
  initialMeta,
  parseDefinition,
  START_GRACE_MS,
  skipUntargeted,
  waitCounts,
} from './run-layout';
import { type RunMeta, recordFromHashes, type TaskState, toEvent, toRecord } from './run-record-view';
import { RunScripts } from './run-scripts';
import type { RecordReadOptions } from './script-inputs';

type Fields = Record<string, string>;
/** A hash as a Map: own fields only, so a task named `constructor` or `__proto__` reads as what Redis holds. */
const entries = (hash: Record<string, string>): Map<string, string> => new Map(Object.entries(hash));

/**
 * The one owner of a run's Redis keys: its definition (cached, it never changes), meta, task states, completion
 * records, outputs, fan-in counters and event stream, plus the global admission and deadline keys the scripts use.
 * Nothing else in the engine builds a run key; every read and write of run data goes through here or `scripts`.
 * Every MULTI and script touches one run's keys or the global `{g}` keys, except creation and admission (one run
 * plus the global slots, index, deadlines and idempotency key), which is what a partitioned deployment must keep in
 * one slot.
 */
export class RunStore {
  readonly scripts: RunScripts;
  private readonly cache: DefinitionCache;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    /** Replicas that must hold a new run before `create` returns (see `EngineOptions.replicaAcks`). */
    private readonly replicaAcks?: { replicas: number; timeoutMs: number },
    cacheSize = 1000,
  ) {
    this.scripts = new RunScripts(redis, keys);
    this.cache = new DefinitionCache(cacheSize);
  }

  /**
   * Claims the run's idempotency key (`def.claim`), writes the definition, meta, first events, index entry and fan-in
   * counters, and admits the run (marking it running with its deadline) or queues it: one script, so all of it
   * happens or none. When the key is held already nothing is written and the holder is returned.
   */
  async create(input: CreateRunInput): Promise<CreateRunReply> {
    const { def, extra = {}, seed = new Map() } = input;
    const meta = initialMeta(def, extra);
    const definition = JSON.stringify(def);
    const result = await this.scripts.createRun(def.executionId, {
      claimKey: def.claim ? this.claimKey(def.claim) : undefined,
      claimTtlMs: input.claimTtlMs ?? 0,
      fingerprint: def.claim?.space === 'client' ? def.claim.fingerprint : '',
      definition,
      layout: creationLayout(def, meta, seed),
      createdAt: def.createdAt,
      limit: input.limit,
      timeoutMs: def.timeoutMs,
      startGraceMs: input.startGraceMs ?? START_GRACE_MS,
    });
    if (!result.created) return result;
    this.cache.created(def, definition);
    if (this.replicaAcks) {
      // An asynchronous replica may miss the last writes when its primary dies: the run is acknowledged only once
      // enough replicas hold it (a replica that does not answer in time leaves it as durable as the primary alone).
      const { replicas, timeoutMs } = this.replicaAcks;
      const acked = await waitForReplicas(this.redis, this.keys.meta(def.executionId), replicas, timeoutMs);
      return { ...result, replicated: acked >= replicas };
    }
    return result;
  }

  private claimKey(claim: RunClaim): string {
    return claim.space === 'client'
      ? this.keys.clientClaim(claim.submitter, claim.id)
      : this.keys.engineClaim(claim.space, claim.id);
  }

  /** Keeps a finished run's idempotency key held as long as its record. */
  async keepClaim(claim: RunClaim, ttlMs: number): Promise<void> {
    await this.redis.pexpire(this.claimKey(claim), ttlMs);
  }

  /** The JSON of a run created here, for its first jobs to carry (`TaskJobData.d`), unless it is too big to. */
  definitionText(def: ExecutionDefinition): string | undefined {
    return this.cache.textOf(def);
  }

  /**
   * The compiled definition; cached per process since it is immutable. Rejects when the run does not exist. `text`:
   * its JSON, when a job carried it (a run's first jobs do): parsed rather than read.
   */
  definition(id: string, text?: string): Promise<ExecutionDefinition> {
    return this.cache.load(id, () => this.redis.get(this.keys.def(id)), text);
  }

  /** Drops the `starting` markers of runs whose first jobs are queued (or that need none any more). */
  async dropStarting(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.keys.starting(), ...ids);
  }

  /** Drops a finished run's definition from the cache. */
  forget(id: string): void {
    this.cache.delete(id);
  }

  /** True when the run's definition exists (it has not expired). */
  async hasDefinition(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.def(id))) === 1;
  }

  async meta(id: string): Promise<RunMeta> {
    return this.redis.hgetall(this.keys.meta(id));
  }

  async metaField(id: string, field: keyof RunMeta): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.meta(id), field)) ?? undefined;
  }

  /** The run's status; undefined when it does not exist (or has expired). */
  async status(id: string): Promise<InternalStatus | undefined> {
    return ((await this.redis.hget(this.keys.meta(id), 'status')) ?? undefined) as InternalStatus | undefined;
  }

  /** Sets the run's status and appends the event that says so, in one MULTI. */
  async setStatus(id: string, status: InternalStatus, event: EventType, fields: Fields = {}): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.meta(id), 'status', status, ...Object.entries(fields).flat())
      .xadd(this.keys.events(id), '*', ...eventFields(event))
      .exec();
  }

  /** Writes meta fields, with no event (the caller appends its own). */
  async setMeta(id: string, fields: Partial<Record<keyof RunMeta, string>>): Promise<void> {
    await this.redis.hset(this.keys.meta(id), fields);
  }

  /** Marks an admitted run running, with its deadline in the deadline set. */
  async markStarted(id: string, timeoutMs: number, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.meta(id), 'status', 'running', 'started_at', String(now))
      .xadd(this.keys.events(id), '*', ...eventFields('workflow.started', now))
      .zadd(this.keys.deadlines(), now + timeoutMs, id)
      .exec();
  }

  /** Sets the run's deadline in the deadline set (its exit handlers' deadline, once they run). */
  async setDeadline(id: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.deadlines(), at, id);
  }

  /** Counts one more pause of the run: its hold job's sequence number. */
  async nextPause(id: string): Promise<number> {
    return this.redis.hincrby(this.keys.meta(id), 'pauses', 1);
  }

  /** Appends one event to the run's stream. */
  async appendEvent(
    id: string,
    type: EventType,
    fields: Record<string, string | number | undefined> = {},
  ): Promise<void> {
    const extra = Object.entries(fields).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.xadd(this.keys.events(id), '*', ...eventFields(type), ...extra);
  }

  /** Events after `after` (exclusive; '0' for all), oldest first. */
  async events(id: string, after = '0', count = 1000): Promise<ExecutionEvent[]> {
    const start = after === '0' ? '-' : `(${after}`;
    const entries = await this.redis.xrange(this.keys.events(id), start, '+', 'COUNT', count);
    return entries.map(([entryId, fields]) => toEvent(entryId, fields));
  }

  /**
   * Waits up to `blockMs` for events after `after` (XREAD BLOCK on `connection`, which then serves nobody else).
   * Resolves with them, or with null when none came.
   */
  async waitForEvents(
    connection: RedisClient,
    id: string,
    after: string,
    options: { count: number; blockMs: number },
  ): Promise<ExecutionEvent[] | null> {
    const reply = (await connection.xread(
      'COUNT',
      options.count,
      'BLOCK',
      options.blockMs,
      'STREAMS',
      this.keys.events(id),
      after,
    )) as [string, [string, string[]][]][] | null;
    if (!reply) return null;
    return (reply[0]?.[1] ?? []).map(([entryId, fields]) => toEvent(entryId, fields));
  }

  /** Epoch ms of the run's latest event; 0 without one. */
  async lastEventAt(id: string): Promise<number> {
    const [last] = await this.redis.xrevrange(this.keys.events(id), '+', '-', 'COUNT', 1);
    return last ? Number(last[0].split('-')[0]) : 0;
  }

  /** The completion records: task id -> its terminal status. */
  async finished(id: string): Promise<Map<string, TaskFinalStatus>> {
    return entries(await this.redis.hgetall(this.keys.finished(id))) as Map<string, TaskFinalStatus>;
  }

  /** The meta and the completion records in one round trip: what a run's end is decided by. */
  async metaAndFinished(id: string): Promise<[RunMeta, Map<string, TaskFinalStatus>]> {
    const replies = await this.redis.pipeline().hgetall(this.keys.meta(id)).hgetall(this.keys.finished(id)).exec();
    const [meta, fin] = replyValues(replies) as Record<string, string>[];
    return [meta ?? {}, entries(fin ?? {}) as Map<string, TaskFinalStatus>];
  }

  /** The recorded outputs of `taskIds` (those without one are absent), in that order. */
  async outputsOf(id: string, taskIds: readonly string[]): Promise<Map<string, string>> {
    const outputs = new Map<string, string>();
    if (taskIds.length === 0) return outputs;
    const values = await this.redis.hmget(this.keys.outputs(id), ...taskIds);
    taskIds.forEach((t, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) outputs.set(t, value);
    });
    return outputs;
  }

  async isFinished(id: string, taskId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.finished(id), taskId)) === 1;
  }

  /**
   * Tasks not finished whose dependencies all are: the roots of a fresh run; for a retry, what did not complete. With
   * `exit`, the same among its exit handlers.
   */
  async readyTasks(def: ExecutionDefinition, exit = false): Promise<string[]> {
    const fin = await this.finished(def.executionId);
    return Object.values(exit ? (def.exitTasks ?? {}) : def.tasks)
      .filter((t) => !fin.has(t.id) && t.deps.every((d) => fin.has(d)))
      .map((t) => t.id);
  }

  /** For a run starting over: empty gates, and its untargeted tasks recorded skipped again. */
  async resetRunHooks(def: ExecutionDefinition, gates: readonly string[]): Promise<void> {
    await this.clearGates(def.executionId, gates);
    const multi = this.redis.multi();
    if (def.untargeted) skipUntargeted(multi, this.keys, def.executionId, def.untargeted, Date.now());
    await multi.exec();
  }

  /** Drops the run's concurrency gates (`*` and its parallel tasks'): nothing holds or waits for a slot any more. */
  async clearGates(id: string, gates: readonly string[]): Promise<void> {
    if (gates.length > 0) await this.redis.del(...gates.flatMap((g) => this.keys.gateKeys(id, g)));
  }

  /** Sets each task's fan-in counter to its unfinished dependencies: all of them, for a run starting over. */
  async resetWaits(def: ExecutionDefinition): Promise<void> {
    const key = this.keys.waits(def.executionId);
    const waits = waitCounts(def, new Map());
    const multi = this.redis.multi().del(key);
    if (waits.size > 0) multi.hset(key, waits);
    await multi.exec();
  }

  /** Forgets every task's progress (states, completions, outputs): the run starts over. */
  async clearProgress(id: string): Promise<void> {
    await this.redis.del(this.keys.finished(id), this.keys.outputs(id), this.keys.tasks(id));
  }

  /** The recorded errors of `taskIds`, by task (those without an error are absent). */
  async taskErrors(id: string, taskIds: readonly string[]): Promise<Map<string, string>> {
    const errors = new Map<string, string>();
    if (taskIds.length === 0) return errors;
    const states = await this.redis.hmget(this.keys.tasks(id), ...taskIds);
    taskIds.forEach((t, i) => {
      const error = states[i] ? (JSON.parse(states[i] as string) as TaskState).e : undefined;
      if (error !== undefined) errors.set(t, error);
    });
    return errors;
  }

  /** A task type's note on a task (see `taskNoteField`). */
  async note(id: string, note: string, taskId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.tasks(id), taskNoteField(note, taskId))) ?? undefined;
  }

  async setNote(id: string, note: string, taskId: string, value: string): Promise<void> {
    await this.redis.hset(this.keys.tasks(id), taskNoteField(note, taskId), value);
  }

  /** Writes the note unless the task has one; true when this call wrote it. */
  async setNoteOnce(id: string, note: string, taskId: string, value: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.keys.tasks(id), taskNoteField(note, taskId), value)) === 1;
  }

  /** One note of several tasks, in order. */
  async notes(id: string, note: string, taskIds: readonly string[]): Promise<(string | undefined)[]> {
    if (taskIds.length === 0) return [];
    const values = await this.redis.hmget(this.keys.tasks(id), ...taskIds.map((t) => taskNoteField(note, t)));
    return values.map((v) => v ?? undefined);
  }

  /**
   * The record in one round trip, undefined once expired: a definition held is not read, nor are `carried` hashes.
   */
  async get(id: string, options: RecordReadOptions = {}): Promise<ExecutionRecord | undefined> {
    const cached = this.cache.get(id);
    const held = options.carried && cached && (await cached.catch(() => undefined));
    if (held && options.carried) return recordFromHashes(id, held, options.carried);
    const pipeline = this.redis.pipeline().hgetall(this.keys.meta(id)).hgetall(this.keys.tasks(id));
    if (options.outputs !== false) pipeline.hgetall(this.keys.outputs(id));
    if (!cached) pipeline.get(this.keys.def(id));
    const values = replyValues(await pipeline.exec());
    const [meta, states] = values as [RunMeta, Record<string, string>];
    const outputs = options.outputs !== false ? (values[2] as Record<string, string>) : undefined;
    const json = cached ? undefined : (values.at(-1) as string | null);
    if (!meta || Object.keys(meta).length === 0 || (!cached && !json)) return undefined;
    const def = cached ? await cached.catch(() => undefined) : parseDefinition(json as string);
    if (!def) return undefined;
    return toRecord(id, meta, def, entries(states), entries(outputs ?? {}), !!outputs);
  }

  /** True while the run's keys exist (they expire a TTL after it ends). */
  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.meta(id))) === 1;
  }

  /** Runs holding a concurrency slot. */
  async activeRuns(): Promise<string[]> {
    return this.redis.smembers(this.keys.active());
  }

  async isActive(id: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.active(), id)) === 1;
  }

  /** Runs waiting for a slot, oldest first. */
  async pendingRuns(): Promise<string[]> {
    return this.redis.lrange(this.keys.pending(), 0, -1);
  }

  async removePending(id: string): Promise<void> {
    await this.redis.lrem(this.keys.pending(), 0, id);
  }

  /** Slots in use and runs waiting for one. */
  async admissionCounts(): Promise<{ active: number; pending: number }> {
    const [active, pending] = await Promise.all([
      this.redis.scard(this.keys.active()),
      this.redis.llen(this.keys.pending()),
    ]);
    return { active, pending };
  }

  /** The recovery counters, by counter name. */
  async counters(): Promise<Map<string, number>> {
    const counters = entries(await this.redis.hgetall(this.keys.counters()));
    return new Map([...counters].map(([k, v]) => [k, Number(v)]));
  }

  async addToCounters(increments: ReadonlyMap<string, number>): Promise<void> {
    if (increments.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [name, by] of increments) pipeline.hincrby(this.keys.counters(), name, by);
    await pipeline.exec();
  }

  /** Tells every worker to abort the run's running tasks. */
  async broadcastAbort(id: string): Promise<void> {
    await this.redis.publish(this.keys.abortChannel(), id);
  }

  /** Tells the worker running `jobId` that it overran its timeout. */
  async broadcastJobTimeout(jobId: string): Promise<void> {
    await this.redis.publish(this.keys.abortChannel(), `job:${jobId}`);
  }

  /** Publishes a run's final message on the channel it named at submission. */
  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(channel, message);
  }
}

/** The values of a pipeline's replies; an error among them is thrown. */
function replyValues(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
