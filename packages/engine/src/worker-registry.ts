import type { RedisClient, RedisKeys } from '@orch/redis';
import { LOST_AFTER_HEARTBEATS, type WorkerInfo } from '@orch/run-model';

/** What a worker writes with each heartbeat (its status is derived when it is read). */
export type WorkerHeartbeat = Omit<WorkerInfo, 'status' | 'last_heartbeat_at'> & { at: number };

/** Entries of workers lost this long ago are removed by the next heartbeat of any worker. */
const FORGET_AFTER_MS = 3_600_000;

/**
 * The workers' heartbeats, in one hash (`workers`: name -> JSON). Each worker rewrites its own entry every
 * `heartbeat_ms`; a reader marks it lost after three missing beats. A worker that closes removes its entry.
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async beat(entry: WorkerHeartbeat): Promise<void> {
    await this.redis.hset(this.keys.workers(), entry.name, JSON.stringify(entry));
  }

  async remove(name: string): Promise<void> {
    await this.redis.hdel(this.keys.workers(), name);
  }

  /** Every worker, live ones first, by name; entries lost for an hour are dropped from the hash. */
  async list(now = Date.now()): Promise<WorkerInfo[]> {
    const raw = await this.redis.hgetall(this.keys.workers());
    const workers: WorkerInfo[] = [];
    const forgotten: string[] = [];
    for (const [name, json] of Object.entries(raw)) {
      let beat: WorkerHeartbeat;
      try {
        beat = JSON.parse(json) as WorkerHeartbeat;
      } catch {
        forgotten.push(name);
        continue;
      }
      const silentMs = now - beat.at;
      if (silentMs > FORGET_AFTER_MS) forgotten.push(name);
      const { at, ...rest } = beat;
      const lost = silentMs > LOST_AFTER_HEARTBEATS * beat.heartbeat_ms;
      workers.push({ ...rest, last_heartbeat_at: new Date(at).toISOString(), status: lost ? 'lost' : 'live' });
    }
    if (forgotten.length > 0) await this.redis.hdel(this.keys.workers(), ...forgotten);
    return workers.sort((a, b) =>
      a.status === b.status ? a.name.localeCompare(b.name) : a.status === 'live' ? -1 : 1,
    );
  }

  /** The task queues at least one live worker serves. */
  async servedQueues(now = Date.now()): Promise<Set<string>> {
    const workers = await this.list(now);
    return new Set(workers.filter((w) => w.status === 'live').flatMap((w) => w.queues));
  }
}
