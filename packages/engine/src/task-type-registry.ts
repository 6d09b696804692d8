import { type ExternalTaskTypeSpec, externalTypeProblem, loadExternalTaskTypes } from '@orch/core';
import type { Logger } from '@orch/logger';
import type { RedisClient, RedisKeys } from '@orch/redis';

/**
 * The task types SDK workers registered (`task-types`: name -> JSON spec, with the worker that wrote it). Workers
 * write theirs at start; the API loads them before it validates a workflow. Built-in names are refused on both
 * sides, so no registration can take over `exec` or any other built-in type.
 */
export class TaskTypeRegistry {
  /** The hash as last loaded: unchanged contents are not parsed again. */
  private loaded = '';
  private loadedAt = 0;
  private loading?: Promise<boolean>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  /** Writes `specs` (each checked first: a refused one throws before anything is written). */
  async register(specs: readonly ExternalTaskTypeSpec[]): Promise<void> {
    for (const spec of specs) {
      const problem = externalTypeProblem(spec);
      if (problem) throw new Error(problem);
    }
    if (specs.length === 0) return;
    await this.redis.hset(this.keys.taskTypes(), Object.fromEntries(specs.map((s) => [s.name, JSON.stringify(s)])));
  }

  /** Every registered spec, as written. */
  async list(): Promise<ExternalTaskTypeSpec[]> {
    const raw = await this.redis.hgetall(this.keys.taskTypes());
    return Object.entries(raw).flatMap(([name, json]) => {
      try {
        return [JSON.parse(json) as ExternalTaskTypeSpec];
      } catch {
        this.logger.warn('registered task type is not JSON; ignored', { task_type: name });
        return [];
      }
    });
  }

  /**
   * Makes this process's validation and dispatch know the registered types (one HGETALL), unless they were loaded
   * less than `maxAgeMs` ago (a submit's validation then costs Redis nothing; concurrent callers share one read;
   * `maxAgeMs` 0 reads now).
   * Resolves true when what is registered changed.
   */
  load(maxAgeMs = 0): Promise<boolean> {
    if (maxAgeMs > 0 && this.loading) return this.loading;
    if (maxAgeMs > 0 && Date.now() - this.loadedAt < maxAgeMs) return Promise.resolve(false);
    // A fresh load never joins a read already under way: that one may have begun before what it is asked to find.
    const reading: Promise<boolean> = this.read().finally(() => {
      if (this.loading === reading) this.loading = undefined;
    });
    this.loading = reading;
    return reading;
  }

  private async read(): Promise<boolean> {
    // Redis away: validation goes on with the types loaded last (a submit then fails on its own write).
    const raw = await this.redis.hgetall(this.keys.taskTypes()).catch((error: Error) => {
      this.logger.debug('task types not loaded', { error: error.message });
      return undefined;
    });
    if (!raw) return false;
    this.loadedAt = Date.now();
    const text = JSON.stringify(raw);
    if (text === this.loaded) return false;
    const specs = Object.values(raw).flatMap((json) => {
      try {
        return [JSON.parse(json) as ExternalTaskTypeSpec];
      } catch {
        return [];
      }
    });
    for (const { name, problem } of loadExternalTaskTypes(specs))
      this.logger.warn('registered task type refused', { task_type: name, problem });
    this.loaded = text;
    return true;
  }
}
