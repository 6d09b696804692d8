import { isCluster, type RedisClient } from './redis-client';

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
export function watchConnection(client: RedisClient, logger: ConnectionLogger, name?: string): void {
  const options = isCluster(client) ? client.options.redisOptions : client.options;
  const connection = name ?? options?.connectionName ?? 'redis';
  const address = isCluster(client) ? 'cluster' : `${client.options.host}:${client.options.port}`;
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
    const meta: Record<string, unknown> = { connection, address };
    if (downSince > 0) Object.assign(meta, { retries, down_ms: Date.now() - downSince });
    logger.info('redis connected', meta);
    state = 'connected';
    retries = 0;
    downSince = 0;
    lastError = undefined;
  });
  client.on('close', () => {
    if (state !== 'connected') return;
    state = 'lost';
    downSince = Date.now();
    logger.warn('redis connection lost', { connection, address, error: lastError });
    lastError = undefined;
  });
  client.on('reconnecting', (delayMs: number) => {
    retries++;
    // Said once a reconnect attempt has failed, with its reason; a blip that the first attempt mends says nothing.
    if (state === 'reconnecting' || state === 'closed' || lastError === undefined) return;
    if (downSince === 0) downSince = Date.now();
    state = 'reconnecting';
    logger.warn('redis reconnecting', { connection, address, delay_ms: delayMs, error: lastError });
  });
  client.on('end', () => {
    state = 'closed';
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
