import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { type ConnectionLogger, watchConnection } from './connection-log';
import {
  type ConnectionProfile,
  createRedisConnection,
  type RedisSettings,
  redisOptions,
} from './create-redis-connection';

/** A standalone (or primary-with-replicas) client, or a Redis Cluster client. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * How long commands wait through a failover. A killed primary's slots have no primary for about the cluster's
 * `cluster-node-timeout` plus an election (1-2 s beyond it); the retry budget is `maxRedirections` retries, each
 * after `retryDelayOnFailover` / `retryDelayOnClusterDown` (a retry refreshes the slot map first).
 */
/** How often a Cluster client reloads the slot map (see clusterOptions). */
export const SLOTS_REFRESH_MS = 5000;

/** The longest an `api` command on a cluster may take (see clusterOptions). */
export const API_COMMAND_TIMEOUT_MS = 2000;

const PROFILES: Record<'api' | 'waits', ClusterOptions> = {
  // The API: a command on a shard without a primary fails within ~1.5 s (measured 1.25 s: 10 retries ~150 ms apart, each a refused
  // connect or a CLUSTERDOWN; a dead host that black-holes SYNs is cut by a 1 s connectTimeout, a hang on an open socket by the 2 s
  // commandTimeout), so an
  // HTTP caller gets its 503 well inside 2-3 s; the first command after the promotion finds the new primary.
  // No offline queue: before the first slot map, commands fail at once (as the standalone `api` profile does).
  api: {
    enableOfflineQueue: false,
    maxRedirections: 10,
    retryDelayOnFailover: 150,
    retryDelayOnClusterDown: 150,
    retryDelayOnTryAgain: 100,
    // A MOVED right after a promotion can bounce between two nodes that disagree for a moment: a short pause
    // lets the gossip settle instead of burning the retry budget in a tight loop.
    retryDelayOnMoved: 50,
    slotsRefreshTimeout: 1000,
  },
  // Workers and subscribers (BullMQ's blocking clients need this): ride out a failover with commands queued, then
  // carry on. Measured with a shard left without any primary: a command gives up after ~45 s (a retry is a refused
  // connect or a MOVED to the dead node, each using up one of the 200), enough for a production
  // cluster-node-timeout of 15 s (a failover in ~17 s).
  waits: {
    enableOfflineQueue: true,
    maxRedirections: 200,
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    retryDelayOnMoved: 100,
    // A loaded node may take a moment to answer CLUSTER SLOTS; a dead one is skipped after this.
    slotsRefreshTimeout: 2000,
  },
};

/**
 * The Cluster's options: the per-node options of `redisOptions` (auth, TLS, reconnectOnError, maxRetriesPerRequest,
 * the subscriber's ready check) and the profile's cluster-level retry settings. Reads go to primaries only
 * (`scaleReads: 'master'`): a replica may lag, and the engine reads its own writes.
 */
export function clusterOptions(settings: RedisSettings, profile: ConnectionProfile, name?: string): ClusterOptions {
  const {
    host: _host,
    port: _port,
    db: _db, // a cluster has only db 0 (loadConfig refuses another)
    retryStrategy: _retry, // node connections do not reconnect: the slot map refresh finds the nodes again
    enableOfflineQueue: _offline,
    lazyConnect: _lazy,
    tls,
    ...node
  } = redisOptions(settings, profile);
  // No fixed SNI name: each node is checked against its own address.
  const { servername: _sni, ...nodeTls } = tls ?? {};
  return {
    ...(profile === 'api' ? PROFILES.api : PROFILES.waits),
    scaleReads: 'master',
    // ioredis refreshes its slot map only on MOVED and connection errors by default. A primary that hangs instead
    // of failing (a stopped VM, a partition) gives neither, so commands would keep going to it after its replica
    // took over; refreshing every 5 s finds the new primary and drops the old one, whose pending commands are then
    // retried there. Each refresh is one short-lived connection (CLUSTER SLOTS) per client.
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    // The whole cluster unreachable (every startup node refused): reconnect with the standalone profiles' backoff,
    // never give up (null would end the client for good).
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    redisOptions: {
      ...node,
      ...(tls ? { tls: nodeTls } : {}),
      connectionName: name,
      // A primary whose host is gone without a reset (a stopped VM, a partition) leaves a command hanging on the
      // open socket for good: the API cuts it after 2 s. Its commands never block (XREAD BLOCK streams use the
      // worker profile), so only a hang reaches it; Redis WAIT on it must use a timeout below this.
      ...(profile === 'api' ? { commandTimeout: API_COMMAND_TIMEOUT_MS, connectTimeout: 1000 } : {}),
    },
  };
}

/**
 * The one place clients are made from settings: a Cluster when `settings.clusterNodes` is set, else exactly
 * createRedisConnection. With a logger, the client's state changes (and a Cluster's node events) are logged.
 *
 * Connections: a Cluster client opens its node connections lazily. Measured on a 3+3 cluster
 * (create-redis-client.int.test.ts): one that only talks to keys of one slot holds 1 connection, to that slot's
 * primary, plus a short-lived one now and then to refresh the slot map (every 5 s, closed right after); its first
 * connect also opens one to a random node for the ready check (CLUSTER INFO), kept open as a node connection
 * (so 2 at most when that node is not the slot's primary). SUBSCRIBE adds one to a random node; a BullMQ worker
 * duplicates the client for its blocking connection, which holds its own.
 */
export function createRedisClient(
  settings: RedisSettings,
  profile: ConnectionProfile,
  name?: string,
  logger?: ConnectionLogger,
): RedisClient {
  if (!settings.clusterNodes || settings.clusterNodes.length === 0) {
    return createRedisConnection(settings, profile, name, logger);
  }
  const client = new Cluster(
    settings.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions(settings, profile, name),
  );
  if (logger) watchConnection(client, logger, name);
  return client;
}
