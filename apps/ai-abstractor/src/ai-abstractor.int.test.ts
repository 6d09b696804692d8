import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, SERVICE_CHANNELS } from '@orch/messaging';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { AiAbstractor } from './ai-abstractor';
import type { AiResult } from './ai-request';

const logger = createLogger({ level: 'error' });
const { requests, responses } = SERVICE_CHANNELS.ai;

/** Just enough of the chat-completions API: answers with whatever `reply` returns for the request body. */
async function chatServer(reply: (body: Record<string, unknown>) => { status: number; content?: string }) {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push({ ...body, path: req.url, authorization: req.headers.authorization });
      const { status, content } = reply(body);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200
            ? {
                id: 'chatcmpl-1',
                object: 'chat.completion',
                created: 1,
                model: `${body.model}-served`,
                choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
              }
            : { error: { message: 'model not found', type: 'invalid_request_error' } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('AiAbstractor over Redis', () => {
  let server: RedisServer;
  let coordinator: MessageCoordinator;

  beforeAll(async () => {
    server = await startRedisServer();
    coordinator = new MessageCoordinator({ redis: { host: server.host, port: server.port }, logger });
  });
  afterAll(async () => {
    await coordinator.close();
    await server.stop();
  });

  const complete = (parameters: Record<string, unknown>) =>
    coordinator.request(
      requests,
      responses,
      { execution_id: 'e', task_id: 'review', attempt: 1, operation: 'complete', parameters },
      { deadline: Date.now() + 5000 },
    ) as Promise<AiResult>;

  it('answers deterministically without a configured endpoint', async () => {
    const service = new AiAbstractor({ redis: { host: server.host, port: server.port }, logger });
    await service.start();
    try {
      expect(service.mode).toBe('stand-in');
      const parameters = { prompt: 'Summarise graph analytics trends', response_format: 'json', provider: 'anthropic' };
      const [a, b] = await Promise.all([complete(parameters), complete(parameters)]);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ stand_in: true, provider: 'stand-in', json: { score: 0.85 } });
      await expect(complete({ prompt: '' })).rejects.toMatchObject({ retryable: false, remoteCode: 'BAD_REQUEST' });
    } finally {
      await service.close();
    }
  });

  it('forwards to the OpenAI-compatible endpoint when one is configured', async () => {
    const chat = await chatServer((body) =>
      body.model === 'missing'
        ? { status: 404 }
        : body.model === 'flaky'
          ? { status: 503 }
          : { status: 200, content: '{"a":1}' },
    );
    const service = new AiAbstractor({
      redis: { host: server.host, port: server.port },
      logger,
      openai: { baseUrl: chat.url, apiKey: 'sk-test', model: 'default-model', timeoutMs: 5000 },
    });
    await service.start();
    try {
      expect(service.mode).toBe('openai');
      const result = await complete({ prompt: 'hi', system: 'be brief', response_format: 'json', max_tokens: 50 });
      expect(result).toEqual({
        text: '{"a":1}',
        model: 'default-model-served',
        provider: 'openai',
        usage: { prompt_tokens: 11, completion_tokens: 7 },
      });
      expect(chat.bodies[0]).toMatchObject({
        path: '/v1/chat/completions',
        authorization: 'Bearer sk-test',
        model: 'default-model',
        max_tokens: 50,
        messages: [
          { role: 'system', content: 'be brief\n\nReply with a single JSON object and nothing else.' },
          { role: 'user', content: 'hi' },
        ],
      });
      await expect(complete({ prompt: 'hi', model: 'missing' })).rejects.toMatchObject({
        retryable: false,
        remoteCode: 'BAD_REQUEST',
        message: expect.stringContaining('answered 404'),
      });
      await expect(complete({ prompt: 'hi', model: 'flaky' })).rejects.toMatchObject({ retryable: true });
      // The SDK's own retries are off: one HTTP request per call.
      expect(chat.bodies.filter((b) => b.model === 'flaky')).toHaveLength(1);
    } finally {
      await service.close();
      await chat.close();
    }
  });
});
