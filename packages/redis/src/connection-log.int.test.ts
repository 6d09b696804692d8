import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './create-redis-connection';
import { closeConnection, unsubscribeQuietly, whileReachable } from './shutdown-steps';

jest.setTimeout(60_000);

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

interface Line {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

function recorder() {
  const lines: Line[] = [];
  return {
    lines,
    logger: {
      info: (message: string, meta: Record<string, unknown> = {}) => lines.push({ level: 'info', message, meta }),
      warn: (message: string, meta: Record<string, unknown> = {}) => lines.push({ level: 'warn', message, meta }),
    },
  };
}

/** The next `event` of the client (events.once would reject on the 'error' events an outage brings). */
function next(client: Redis, event: string, what: string): Promise<unknown> {
  return withDeadline(new Promise((resolve) => client.once(event, resolve)), 10_000, what);
}

/** Resolves after the client has tried to reconnect `count` more times. */
async function retries(client: Redis, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await next(client, 'reconnecting', `reconnect attempt ${i}`);
}

describe('watchConnection, through the factory', () => {
  it('logs one line per state change across an outage, not one per retry, and prints no raw stack', async () => {
    const printed = jest.spyOn(console, 'error');
    const { lines, logger } = recorder();
    for (const profile of ['api', 'worker'] as const) {
      lines.length = 0;
      const client = createRedisConnection(server, profile, `test-${profile}`, logger);
      await next(client, 'ready', 'the first connect');
      await server.stop({ keepDir: true });
      await retries(client, 4);
      await server.restart();
      await next(client, 'ready', 'the reconnect');
      expect(lines.map((l) => `${l.level} ${l.message}`)).toEqual([
        'info redis connected',
        'warn redis connection lost',
        'warn redis reconnecting',
        'info redis connected',
      ]);
      expect(lines[0]?.meta).toEqual({ connection: `test-${profile}`, address: `${server.host}:${server.port}` });
      expect(lines[2]?.meta.error).toMatch(/ECONNREFUSED/);
      expect(lines[3]?.meta.retries).toBeGreaterThanOrEqual(4);
      expect(lines[3]?.meta.down_ms).toBeGreaterThan(0);
      await closeConnection(client);
      expect(client.status).toBe('end');
    }
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
  });

  it('says once that Redis is unreachable when it is down from the start', async () => {
    const { lines, logger } = recorder();
    const client = createRedisConnection({ host: '127.0.0.1', port: 1 }, 'worker', 'never', logger);
    await retries(client, 3);
    expect(lines.map((l) => l.message)).toEqual(['redis reconnecting']);
    await closeConnection(client);
  });
});

describe('shutdown steps with Redis gone', () => {
  it('whileReachable gives up after the grace; unsubscribeQuietly and closeConnection return at once', async () => {
    const client = createRedisConnection(server, 'worker', 'grace', recorder().logger);
    await client.subscribe('some-channel');
    await server.stop({ keepDir: true });
    await next(client, 'close', 'the client to see the outage');
    const never = new Promise(() => undefined);
    const started = Date.now();
    expect(await whileReachable(client, never, 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    await withDeadline(unsubscribeQuietly(client, ['some-channel']), 500, 'unsubscribe while down');
    await withDeadline(closeConnection(client), 500, 'close while down');
    await server.restart();
  });

  it('whileReachable waits for the work while Redis is there, and passes its error on', async () => {
    const client = createRedisConnection(server, 'worker', 'up', recorder().logger);
    await next(client, 'ready', 'connect');
    expect(await whileReachable(client, client.ping(), 50)).toBe(true);
    await expect(whileReachable(client, Promise.reject(new Error('boom')), 50)).rejects.toThrow('boom');
    await closeConnection(client);
  });
});
