import type { Cluster, Redis } from 'ioredis';

/** Redis | Cluster (RedisClient), spelled here so this file needs nothing from the factory. */
type Client = Redis | Cluster;

/**
 * Shutdown steps that cannot hang on a Redis that is gone. Worker-profile clients queue commands until Redis comes
 * back (`maxRetriesPerRequest: null`), so a close that awaits one (UNSUBSCRIBE, a last PUBLISH, BullMQ's worker
 * close) would wait for a reconnect that may never come, and the process would sit until its SIGKILL.
 */

/** Waits for `work` at most `ms`; true when it settled in time (its rejection is the caller's to handle). */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `work` unless `client` stays unreachable (not `ready`) for `graceMs` first: resolves true when `work`
 * finished (rejects with its error), false when Redis was gone that long. A reconnect within the grace restarts it.
 */
export function whileReachable(client: Client, work: Promise<unknown>, graceMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => finish(() => resolve(false)), graceMs);
    };
    const disarm = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const finish = (settle: () => void) => {
      disarm();
      client.off('close', arm);
      client.off('end', arm);
      client.off('ready', disarm);
      settle();
    };
    client.on('close', arm);
    client.on('end', arm);
    client.on('ready', disarm);
    if (client.status !== 'ready') arm();
    work.then(
      () => finish(() => resolve(true)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/**
 * UNSUBSCRIBE, waiting at most `ms` for the reply, and not at all while Redis is away: the command then stays in
 * the client's offline queue and applies if it reconnects, which only matters to a client that lives on.
 */
export async function unsubscribeQuietly(client: Client, channels: string[] = [], ms = 1000): Promise<void> {
  const sent = client.unsubscribe(...channels).catch(() => undefined);
  if (client.status === 'ready') await within(sent, ms);
}

/** QUIT, waiting at most `ms` for the reply, then drop the socket whatever happened. Safe to call twice. */
export async function closeConnection(client: Client, ms = 1000): Promise<void> {
  if (client.status === 'ready') {
    const ended = new Promise((resolve) => client.once('end', resolve));
    await within(Promise.all([client.quit(), ended]), ms);
  }
  // Only once: a disconnect of a client that already ended arms a timer for a 'close' that will not come.
  if (client.status !== 'end') client.disconnect();
}
