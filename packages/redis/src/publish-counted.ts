import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './create-redis-client';

/**
 * PUBLISH, resolving with how many subscribers got the message. On a Redis Cluster every node delivers a PUBLISH
 * to its own subscribers, but the reply counts only those of the node that took it, so a 0 there says nothing of
 * a subscriber on another node: then every node is asked (PUBSUB NUMSUB, `askMs` each at most; one that does not
 * answer counts 0). Callers that treat 0 as "nobody is listening" stay right on a cluster.
 */
export async function publishCounted(
  client: RedisClient,
  channel: string,
  message: string,
  askMs = 1000,
): Promise<number> {
  const local = await client.publish(channel, message);
  if (local > 0 || !isCluster(client)) return local;
  const counts = await Promise.all(client.nodes('all').map((node) => subscribersOn(node, channel, askMs)));
  return counts.reduce((sum, n) => sum + n, 0);
}

async function subscribersOn(node: Redis, channel: string, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), ms);
  });
  const asked = (node.pubsub('NUMSUB', channel) as Promise<[string, number]>).then(
    (reply) => Number(reply[1]),
    () => 0,
  );
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}
