import { createRedisConnection, type RedisSettings } from '@orch/redis';
import { type RedisServer, startRedisServer } from '@orch/testing';
import type { Redis } from 'ioredis';

/** The bench's private redis-server and a plain client for INFO, FLUSHALL and MEMORY USAGE. */
export interface BenchRedis {
  server: RedisServer;
  settings: RedisSettings;
  admin: Redis;
  /** A fresh client; the bench closes every client it makes through `close()`. */
  connect(name: string): Redis;
  /**
   * A fresh client that is ready before it subscribes: ioredis runs its INFO ready check on connect, and a client
   * that already sent SUBSCRIBE from its offline queue fails that check ("only subscriber commands may be used").
   */
  subscriber(name: string): Promise<Redis>;
  info(section: string): Promise<Record<string, string>>;
  /** `INFO commandstats` as command -> calls (commands run inside Lua scripts are counted too). */
  commandCalls(): Promise<Map<string, number>>;
  /**
   * `used_memory` less the clients' buffers (`mem_clients_normal`): what the data holds. Client query and reply
   * buffers grow with a burst of commands and shrink a moment later, so they would make a snapshot bimodal.
   */
  usedMemory(): Promise<number>;
  close(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const server = await startRedisServer();
  const settings: RedisSettings = { host: server.host, port: server.port };
  const clients: Redis[] = [];
  const connect = (name: string) => {
    const client = createRedisConnection(settings, 'worker', name);
    clients.push(client);
    return client;
  };
  const admin = connect('bench-admin');
  const info = async (section: string) => parseInfo(await admin.info(section));
  return {
    server,
    settings,
    admin,
    connect,
    async subscriber(name) {
      const client = connect(name);
      await client.ping();
      return client;
    },
    info,
    async commandCalls() {
      const calls = new Map<string, number>();
      for (const [key, value] of Object.entries(await info('commandstats'))) {
        const match = /calls=(\d+)/.exec(value);
        if (match) calls.set(key.replace(/^cmdstat_/, ''), Number(match[1]));
      }
      return calls;
    },
    async usedMemory() {
      const memory = await info('memory');
      return Number(memory.used_memory) - Number(memory.mem_clients_normal ?? 0);
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await server.stop();
    },
  };
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/** Calls per command between two `commandCalls()` snapshots, biggest first. */
export function callDelta(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  const delta: [string, number][] = [];
  for (const [command, calls] of after) {
    const diff = calls - (before.get(command) ?? 0);
    if (diff > 0) delta.push([command, diff]);
  }
  return delta.sort((a, b) => b[1] - a[1]);
}

export function totalCalls(delta: [string, number][]): number {
  return delta.reduce((sum, [, n]) => sum + n, 0);
}

/**
 * Script invocations (EVALSHA/EVAL/FCALL). Redis counts the commands a script runs in commandstats as well, so
 * `totalCalls` is the work Redis did and this is how many of those calls were whole scripts.
 */
export function scriptCalls(delta: [string, number][]): number {
  return delta.filter(([c]) => c === 'evalsha' || c === 'eval' || c === 'fcall').reduce((s, [, n]) => s + n, 0);
}
