import type { Cluster, Redis } from 'ioredis';

/** What the watcher needs of a logger; a winston Logger fits. */
export interface ConnectionLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

type State = 'connecting' | 'connected' | 'lost' | 'reconnecting' | 'closed';

/**
 * Logs a client's life one line per state change: `redis connected`, `redis connection lost` (with the socket's
 * error, if any), `redis reconnecting` (once, when an attempt has failed, with its error, however many retries
 * follow), and `redis connected` again with the retries it took and how long Redis was gone. Being an `error`
 * listener, it also keeps ioredis from printing every failed retry's stack to stderr ("Unhandled error event").
 */
export function watchConnection(client: Redis | Cluster, logger: ConnectionLogger, name?: string): void {
  const cluster = (client as Cluster).isCluster === true ? (client as Cluster) : undefined;
  const standalone = cluster ? undefined : (client as Redis);
  const connection =
    name ?? standalone?.options.connectionName ?? cluster?.options.redisOptions?.connectionName ?? 'redis';
  // A Cluster's address is the nodes its pool knows at the moment (its startup nodes until the first slot map),
  // or the last it knew when the pool is empty.
  let known = '';
  const where = () => {
    if (standalone) return `${standalone.options.host}:${standalone.options.port}`;
    const nodes = (cluster?.nodes('all') ?? []).map((n) => `${n.options.host}:${n.options.port}`).join(',');
    known = nodes || known;
    return `cluster ${known}`;
  };
  if (cluster) watchClusterNodes(cluster, logger, connection);
  let state: State = 'connecting';
  let lastError: string | undefined;
  let retries = 0;
  let downSince = 0;

  // An error event is the socket's: the close that follows it says it (lost, or the reconnecting line), so an
  // outage is one line however it began, and retries that fail the same way add nothing.
  client.on('error', (error: Error) => {
    lastError = error.message;
  });
  client.on('ready', () => {
    if (state === 'connected') return;
    const meta: Record<string, unknown> = { connection, address: where() };
    if (downSince > 0) Object.assign(meta, { retries, down_ms: Date.now() - downSince });
    logger.info('redis connected', meta);
    state = 'connected';
    retries = 0;
    downSince = 0;
    lastError = undefined;
  });
  // A Cluster closes on quit/disconnect as well (its status is already past 'disconnecting' by the 'close' event):
  // that is no loss.
  cluster?.on('disconnecting', () => {
    state = 'closed';
  });
  client.on('close', () => {
    if (state !== 'connected') return;
    state = 'lost';
    downSince = Date.now();
    logger.warn('redis connection lost', { connection, address: where(), error: lastError });
    lastError = undefined;
  });
  client.on('reconnecting', (delayMs: number) => {
    retries++;
    // Said once a reconnect attempt has failed, with its reason; a blip that the first attempt mends says nothing.
    if (state === 'reconnecting' || state === 'closed' || lastError === undefined) return;
    if (downSince === 0) downSince = Date.now();
    state = 'reconnecting';
    logger.warn('redis reconnecting', { connection, address: where(), delay_ms: delayMs, error: lastError });
  });
  client.on('end', () => {
    state = 'closed';
  });
}

/**
 * A Cluster's node connections, one line per change: `redis cluster node connected` when one becomes ready (again),
 * `redis cluster node error` once per outage of a node, `redis cluster node lost` when the pool drops it. A node
 * that is down is recreated on every retry of a command (and dropped again when its connect fails); those repeats
 * say nothing new and are not logged. Nothing is logged while the client itself is closing.
 */
function watchClusterNodes(cluster: Cluster, logger: ConnectionLogger, connection: string): void {
  // Nodes with a connection that was ready; only those can be lost (the pool also makes and drops connections it
  // never opened, as its first slot map replaces the startup nodes).
  const up = new Set<string>();
  const erred = new Set<string>();
  const keyOf = (redis: Redis) => `${redis.options.host}:${redis.options.port}`;
  const closing = () => cluster.status === 'disconnecting' || cluster.status === 'end';
  cluster.on('+node', (redis: Redis) => {
    const node = keyOf(redis);
    redis.once('ready', () => {
      erred.delete(node);
      if (up.has(node)) return;
      up.add(node);
      logger.info('redis cluster node connected', { connection, node });
    });
  });
  cluster.on('node error', (error: Error, node: string) => {
    if (closing() || erred.has(node)) return;
    erred.add(node);
    logger.warn('redis cluster node error', { connection, node, error: error.message });
  });
  cluster.on('-node', (redis: Redis) => {
    const node = keyOf(redis);
    if (!up.delete(node) || closing()) return;
    logger.warn('redis cluster node lost', { connection, node });
  });
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * True for an error that says Redis could not be reached, rather than that a command failed. Clients that re-emit
 * their connection's errors (BullMQ's workers and queues) use it to leave those to the connection's own log lines.
 */
export function isConnectionError(error: unknown): boolean {
  // Duck-typed: Node's socket errors need not share this realm's Error (under Jest they do not).
  if (typeof error !== 'object' || error === null || typeof (error as Error).message !== 'string') return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  return (
    (error as Error).message === 'Connection is closed.' ||
    /^(connect |read |write )?(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)\b/.test(
      (error as Error).message,
    )
  );
}
