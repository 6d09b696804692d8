import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { type ConnectionLogger, watchConnection } from './connection-log';

export interface RedisSettings {
  host: string;
  port: number;
  /** An ACL user; AUTH sends username and password (Redis 6+). */
  username?: string;
  password?: string;
  db?: number;
  /** `redis://` or `rediss://` (TLS); wins over host/port/username/password/db. */
  url?: string;
  /** TLS on (also implied by `rediss://`), with PEM contents: a private CA, a client certificate and its key. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** A Redis Cluster's startup nodes (REDIS_CLUSTER_NODES): createRedisClient then makes a Cluster client. */
  clusterNodes?: { host: string; port: number }[];
}

/**
 * `api`: commands fail fast while Redis is away, so HTTP callers get a 503 instead of a hang.
 * `worker`: commands wait for the reconnect (BullMQ requires `maxRetriesPerRequest: null` for blocking clients).
 * `subscriber`: `worker` for a connection that only (un)subscribes. It skips ioredis's INFO ready check: a SUBSCRIBE
 * issued while the connection is still in its handshake (a slow TLS one makes the window wide) would otherwise be
 * sent ahead of that INFO, which Redis then refuses in subscriber mode, leaving the client never ready.
 * Subscribing works while Redis loads its data, so the check guards nothing here.
 */
export type ConnectionProfile = 'api' | 'worker' | 'subscriber';

const RECONNECT_ON = ['READONLY', 'LOADING', 'UNBLOCKED'];

export function redisOptions(settings: RedisSettings, profile: ConnectionProfile): RedisOptions {
  const options: RedisOptions = {
    host: settings.host,
    port: settings.port,
    username: settings.username || undefined,
    password: settings.password || undefined,
    db: settings.db ?? 0,
    lazyConnect: false,
    // After a failover the old primary answers READONLY and a restarting one LOADING: reconnect and resend.
    reconnectOnError: (error) => RECONNECT_ON.some((code) => error.message.startsWith(code)),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(profile === 'api'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null, enableOfflineQueue: true }),
    ...(profile === 'subscriber' ? { enableReadyCheck: false } : {}),
  };
  if (settings.url) {
    const url = new URL(settings.url);
    options.host = url.hostname;
    options.port = Number(url.port || 6379);
    if (url.password) options.password = decodeURIComponent(url.password);
    if (url.username) options.username = decodeURIComponent(url.username);
    if (url.pathname.length > 1) options.db = Number(url.pathname.slice(1));
  }
  if (settings.tls || settings.url?.startsWith('rediss:')) {
    const host = options.host ?? 'localhost';
    // The certificate is checked against the host name, or an IP address SAN; SNI takes names only.
    options.tls = { ...(isIP(host) ? {} : { servername: host }), ...settings.tls };
  }
  return options;
}

/** The one place Redis clients are made. With a logger, the client's state changes are logged (watchConnection). */
export function createRedisConnection(
  settings: RedisSettings,
  profile: ConnectionProfile,
  name?: string,
  logger?: ConnectionLogger,
): Redis {
  const client = new Redis({ ...redisOptions(settings, profile), connectionName: name });
  if (logger) watchConnection(client, logger, name);
  return client;
}
