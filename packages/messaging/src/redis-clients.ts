import {
  type ConnectionLogger,
  type ConnectionProfile,
  closeConnection,
  createRedisClient,
  type RedisClient,
  type RedisSettings,
} from '@orch/redis';

/**
 * A client (standalone or Cluster: settings with `clusterNodes` make a Cluster) that is either injected (the owner closes it) or made on first use from settings (we close it).
 * Made lazily so a coordinator that is never used opens no connection.
 */
export class RedisClientSlot {
  private client?: RedisClient;
  private readonly owned: boolean;
  private closed = false;

  constructor(
    private readonly what: string,
    injected: RedisClient | undefined,
    private readonly settings: RedisSettings | undefined,
    private readonly name: string,
    private readonly profile: ConnectionProfile = 'worker',
    /** Logs the state changes of a client made here (an injected one is its owner's to watch). */
    private readonly logger?: ConnectionLogger,
  ) {
    this.client = injected;
    this.owned = injected === undefined;
    if (!injected && !settings) throw new TypeError(`${what}: pass either redis settings or an ioredis client`);
  }

  get(): RedisClient {
    if (this.closed) throw new Error(`${this.what} is closed`);
    this.client ??= createRedisClient(this.settings as RedisSettings, this.profile, this.name, this.logger);
    return this.client;
  }

  get created(): boolean {
    return this.client !== undefined;
  }

  /** Closes the client if we made it; bounded, since a worker-profile QUIT would wait for a Redis that is down. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    if (!client || !this.owned) return;
    this.client = undefined;
    await closeConnection(client);
  }
}
