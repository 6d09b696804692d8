import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { type RunningStack, SERVICES, type StoppedProcess, startStack } from './service-stack';

jest.setTimeout(120_000);

interface Line {
  process: string;
  raw: string;
  json?: Record<string, unknown>;
}

let server: RedisServer;
let stack: RunningStack | undefined;
let stopped: StoppedProcess[] | undefined;
const lines: Line[] = [];
const written = new EventEmitter();

beforeAll(async () => {
  server = await startRedisServer();
  stack = await startStack({
    env: {
      PATH: process.env.PATH,
      REDIS_HOST: server.host,
      REDIS_PORT: String(server.port),
      QUEUE_PREFIX: 'stackdown',
      ORCHESTRATOR_PORT: String(await freePort()),
      ORCHESTRATOR_WORKSPACE: mkdtempSync(join(tmpdir(), 'orch-stack-down-')),
      ORCHESTRATOR_TEMPLATES: join(__dirname, '../../../templates'),
      LOG_LEVEL: 'info',
    },
    log: (raw) => {
      const match = /^\[([a-z-]+)\] (.*)$/.exec(raw);
      const line: Line = { process: match?.[1] ?? 'cli', raw };
      try {
        line.json = JSON.parse(match?.[2] ?? '') as Record<string, unknown>;
      } catch {
        // not a log line of a process: a raw stack, or the CLI's own text
      }
      lines.push(line);
      written.emit('line');
    },
  });
});
afterAll(async () => {
  if (!stopped) await stack?.stop();
  await server?.stop();
});

/** Resolves once `test` holds over the lines so far, checking again at each new line. */
function until(test: () => boolean, what: string, ms = 20_000): Promise<void> {
  let check: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    check = () => {
      if (test()) resolve();
    };
    written.on('line', check);
    check();
  });
  return withDeadline(done, ms, what).finally(() => written.off('line', check));
}

/** `process/connection` -> the messages of its connection state lines, in order. */
function connectionStates(): Map<string, string[]> {
  const states = new Map<string, string[]>();
  for (const { process, json } of lines) {
    if (!json || typeof json.connection !== 'string' || !String(json.message).startsWith('redis ')) continue;
    const key = `${process}/${json.connection}`;
    states.set(key, [...(states.get(key) ?? []), json.message as string]);
  }
  return states;
}

const said = (process: string, message: string) =>
  lines.some((l) => l.process === process && l.json?.message === message);

it('logs an outage once per connection state change, then every process stops promptly with Redis down', async () => {
  await until(
    () =>
      said('worker', 'worker ready') &&
      ['data-abstractor', 'ai-abstractor', 'exec-agent'].every((p) => said(p, 'listening for requests')),
    'every process to be up',
  );
  await until(() => [...connectionStates().values()].every((s) => s.includes('redis connected')), 'connections');
  const connected = [...connectionStates().keys()];
  // Each process's own connections, BullMQ's included, are watched.
  expect(connected).toEqual(
    expect.arrayContaining([
      'api/orch-api',
      'api/orch-api-sub',
      'api/orch-api-bullmq',
      'worker/orch-worker',
      'worker/orch-worker-abort',
      'worker/orch-worker-bullmq',
      'data-abstractor/data-abstractor-sub',
      'ai-abstractor/ai-abstractor-pub',
      'exec-agent/exec-agent-sub',
    ]),
  );

  await server.stop({ keepDir: true });
  await until(
    () => connected.every((c) => connectionStates().get(c)?.includes('redis reconnecting')),
    'every connection to say it is reconnecting',
  );
  // The outage goes on for several retries of every client (100 ms, 200 ms, ... 2 s apart).
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const connection of connected) {
    expect([connection, connectionStates().get(connection)]).toEqual([
      connection,
      ['redis connected', 'redis connection lost', 'redis reconnecting'],
    ]);
  }
  // Nothing printed around the logger: no "[ioredis] Unhandled error event", no stack frames.
  expect(lines.filter((l) => l.process !== 'cli' && !l.json).map((l) => l.raw)).toEqual([]);
  expect(lines.filter((l) => l.json?.level === 'error').map((l) => l.raw)).toEqual([]);

  const started = Date.now();
  stopped = await (stack as RunningStack).stop();
  const totalMs = Date.now() - started;
  expect(stopped.map((s) => s.name)).toEqual([...SERVICES].reverse());
  for (const process of stopped) {
    expect([process.name, process.code, process.killed]).toEqual([process.name, 0, false]);
    // The worker waits up to 2 s for Redis to come back; the others need nothing from it to stop.
    expect([process.name, process.ms < (process.name === 'worker' ? 4_000 : 1_500)]).toEqual([process.name, true]);
  }
  expect(totalMs).toBeLessThan(10_000);
});
