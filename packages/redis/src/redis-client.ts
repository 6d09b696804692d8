import type { RedisClient } from './create-redis-client';

/**
 * Waits until `replicas` replicas hold this connection's writes so far to the node of `key` (Redis WAIT), at most
 * `timeoutMs`; returns how many did. On a cluster WAIT has no key to route by, so it rides in a pipeline behind a
 * read of `key`: both go to the node that holds the key, on the connection that made the writes.
 */
export async function waitForReplicas(
  client: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const replies = (await client.pipeline().exists(key).wait(replicas, timeoutMs).exec()) ?? [];
  const [error, acked] = replies[1] ?? [];
  if (error) throw error;
  return Number(acked);
}
