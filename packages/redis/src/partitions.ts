import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';

/** Redis Cluster's slot count: a key's slot is CRC16(tag) mod this. */
export const CLUSTER_SLOTS = 16384;

/**
 * The fixed set of partitions a deployment's runs are spread over (ORCHESTRATOR_PARTITIONS). A partition is one hash
 * tag: its runs' keys, its BullMQ queues and its admission, deadline and index keys all share the tag, so every
 * script and MULTI of a run touches one slot, and runs spread over a cluster's primaries by partition.
 *
 * A run's partition is a hash of its execution id, so any process finds it from the id alone; a run with an
 * idempotency claim is given an id that hashes to the claim's partition, so claim and run share a slot. The count is
 * fixed for a deployment's lifetime: changing it would move existing ids to other partitions.
 */
export class Partitions {
  private readonly tags: readonly string[];

  /**
   * @param count how many (1 on a standalone Redis by default).
   * @param tagged whether keys carry partition tags: always on a cluster or with more than one partition. A single
   *   untagged partition is the standalone layout (each run under its own tag, global keys under `{g}`).
   */
  constructor(
    readonly count = 1,
    readonly tagged = count > 1,
  ) {
    if (!Number.isInteger(count) || count < 1 || count > 1024) throw new RangeError(`partitions: ${count}, not 1-1024`);
    this.tags = tagged ? Array.from({ length: count }, (_, p) => tagOf(p, count)) : [];
  }

  /** The hash tag (without braces) of partition `p`; undefined in the untagged layout. */
  tag(p: number): string | undefined {
    return this.tags[p];
  }

  /** The cluster slot of partition `p`'s keys (its tag's); undefined in the untagged layout. */
  slotOf(p: number): number | undefined {
    const tag = this.tags[p];
    return tag === undefined ? undefined : calculateSlot(tag);
  }

  /** The partitions, in order. */
  all(): number[] {
    return Array.from({ length: this.count }, (_, p) => p);
  }

  /** The partition of an execution id. */
  ofId(executionId: string): number {
    return this.count === 1 ? 0 : fnv1a(executionId) % this.count;
  }

  /** The partition of anything else named by a string (an idempotency claim's identity). */
  ofName(name: string): number {
    return this.count === 1 ? 0 : fnv1a(`n:${name}`) % this.count;
  }

  /** A random UUID whose partition is `p` (about `count` draws). */
  newId(p: number = this.random()): string {
    for (;;) {
      const id = randomUUID();
      if (this.ofId(id) === p) return id;
    }
  }

  /** A partition picked at random, for a run no claim places. */
  random(): number {
    return this.count === 1 ? 0 : Math.floor(Math.random() * this.count);
  }
}

/**
 * Partition p's tag is `p<p>.<salt>`, the first salt whose slot falls in p's even share of the slot range, so
 * partitions spread evenly over primaries that split the slots evenly (as `redis-cli --cluster create` does).
 */
function tagOf(p: number, count: number): string {
  const from = Math.floor((p * CLUSTER_SLOTS) / count);
  const to = Math.floor(((p + 1) * CLUSTER_SLOTS) / count);
  for (let salt = 0; ; salt++) {
    const tag = `p${p}.${salt}`;
    const slot = calculateSlot(tag);
    if (slot >= from && slot < to) return tag;
  }
}

/** 32-bit FNV-1a: cheap, well spread over UUIDs, and the same in every process. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
