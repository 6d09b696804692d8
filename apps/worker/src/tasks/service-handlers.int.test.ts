import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiAbstractor } from '@orch/ai-abstractor/testing';
import { DataAbstractor } from '@orch/data-abstractor/testing';
import { PermanentTaskError, type TaskContext, type TaskHandler } from '@orch/engine';
import { ExecAgent } from '@orch/exec-agent/testing';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, ServiceCallError } from '@orch/messaging';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { createServiceHandlers } from './service-handlers';

const logger = createLogger({ level: 'error' });
/** The workers' and services' SERVICE_SECRET: every request and reply is signed. */
const SECRET = 'contract-test-secret-0123456789abcdef';

function context(overrides: Partial<TaskContext> = {}): TaskContext {
  return {
    executionId: 'exec-1',
    taskId: 'task',
    correlationId: 'corr-1',
    attempt: 1,
    signal: new AbortController().signal,
    deadline: Date.now() + 10_000,
    logger,
    log: () => undefined,
    ...overrides,
  };
}

/** One case per handler: a call that succeeds, what its output must hold, and a call the service refuses. */
const contract: {
  kind: 'data' | 'ai' | 'exec';
  service: string;
  channel: string;
  ok: Record<string, unknown>;
  output: Record<string, unknown>;
  refused: Record<string, unknown>;
}[] = [
  {
    kind: 'data',
    service: 'data-abstractor',
    channel: 'data-requests',
    ok: { operation: 'traverse', query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 2' }, enrich: ['metadata'] },
    output: {
      count: 2,
      rows: [expect.objectContaining({ n: expect.objectContaining({ labels: ['Person'] }) }), expect.anything()],
    },
    refused: { operation: 'traverse', query: { cypher: 'DROP DATABASE' } },
  },
  {
    kind: 'ai',
    service: 'ai-abstractor',
    channel: 'ai-requests',
    ok: { prompt: 'Review this draft about graphs', response_format: 'json', provider: 'anthropic' },
    output: { stand_in: true, provider: 'stand-in', json: expect.objectContaining({ score: 0.85 }) },
    refused: { prompt: 'x', response_format: 'yaml' },
  },
  {
    kind: 'exec',
    service: 'exec-agent',
    channel: 'exec-requests',
    ok: {
      image: 'python:3.12-slim',
      command: ['sh', '/workspace/input/run.sh'],
      files: [{ name: 'run.sh', content: 'echo \'{"rows": 3}\'' }],
      timeout: '10s',
    },
    output: { exit_code: 0, mode: 'sandbox', json: { rows: 3 }, files: [] },
    refused: { image: 'x', command: ['true'], files: [{ name: '/etc/passwd', content: '' }] },
  },
];

describe('service task handlers against the stand-ins (contract)', () => {
  let server: RedisServer;
  let workspace: string;
  let coordinator: MessageCoordinator;
  // Loosely typed: these tests also send parameters the schemas refuse, to see what the services answer.
  let handlers: Record<'data' | 'ai' | 'exec', TaskHandler>;
  let services: { start(): Promise<void>; close(): Promise<void> }[];

  beforeAll(async () => {
    server = await startRedisServer();
    workspace = mkdtempSync(join(tmpdir(), 'contract-'));
    const redis = { host: server.host, port: server.port };
    coordinator = new MessageCoordinator({ redis, logger, secret: SECRET });
    handlers = createServiceHandlers({
      coordinator,
      openai: { model: 'gpt-4o-mini', timeoutMs: 5000 },
    }) as unknown as typeof handlers;
    services = [
      new DataAbstractor({ redis, logger, secret: SECRET }),
      new AiAbstractor({ redis, logger, secret: SECRET }),
      new ExecAgent({ redis, logger, workspaceDir: workspace, secret: SECRET }),
    ];
  });
  afterAll(async () => {
    await coordinator.close();
    await Promise.all(services.map((s) => s.close()));
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  describe('with no service running', () => {
    it.each(contract)('$kind fails at once, retryably, naming $service and $channel', async (c) => {
      const error = await handlers[c.kind](c.ok, context()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceCallError);
      expect(error).not.toBeInstanceOf(PermanentTaskError);
      expect(error).toMatchObject({ retryable: true, message: `no ${c.service} is listening on ${c.channel}` });
    });
  });

  describe('with the stand-ins running', () => {
    beforeAll(async () => {
      await Promise.all(services.map((s) => s.start()));
    });

    it.each(contract)('$kind answers', async (c) => {
      expect(await handlers[c.kind](c.ok, context())).toMatchObject(c.output);
    });

    it.each(contract)('$kind turns a refusal into a PermanentTaskError', async (c) => {
      const error = await handlers[c.kind](c.refused, context()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentTaskError);
      expect((error as Error).message).toMatch(new RegExp(`^${c.service}: .*\\(BAD_REQUEST\\)$`));
    });
  });
});
