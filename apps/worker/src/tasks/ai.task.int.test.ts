import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AiAbstractor } from '@orch/ai-abstractor/testing';
import { PermanentTaskError, type TaskContext } from '@orch/engine';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, ServiceResponder } from '@orch/messaging';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { createAiTask } from './ai.task';

const logger = createLogger({ level: 'error' });

/**
 * A local server speaking the chat-completions API. `reply` picks the answer for each request body: a status and
 * the assistant's content, or `hang` to never answer.
 */
async function chatServer(reply: (body: Record<string, unknown>) => { status: number; content?: string } | 'hang') {
  const bodies: Record<string, unknown>[] = [];
  const arrived = new EventEmitter();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push(body);
      arrived.emit('request', body);
      const answer = reply(body);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          answer.status === 200
            ? {
                id: 'chatcmpl-test',
                object: 'chat.completion',
                created: 1_700_000_000,
                model: body.model,
                choices: [{ index: 0, message: { role: 'assistant', content: answer.content }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
              }
            : { error: { message: `failure ${answer.status}`, type: 'test' } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    arrived,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('ai task handler', () => {
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

  const context = (overrides: Partial<TaskContext> = {}): TaskContext => ({
    executionId: 'exec-1',
    taskId: 'ai_analysis',
    attempt: 1,
    signal: new AbortController().signal,
    deadline: Date.now() + 10_000,
    log: () => undefined,
    logger,
    ...overrides,
  });

  describe('through the ai-abstractor', () => {
    it('gets JSON the data-analysis-basic and ai-content-pipeline templates can read', async () => {
      const service = new AiAbstractor({ redis: { host: server.host, port: server.port }, logger });
      await service.start();
      try {
        const ai = createAiTask({ coordinator, openai: { model: 'gpt-4o-mini', timeoutMs: 5000 } });
        const analysis = (await ai(
          {
            provider: 'anthropic',
            prompt: 'Identify trends. Statistics: {"rows": 18}. Answer in JSON with "summary" and "trends".',
            response_format: 'json',
            max_tokens: 2000,
          },
          context(),
        )) as { json: Record<string, unknown>; stand_in: boolean };
        expect(analysis.stand_in).toBe(true);
        expect(analysis.json).toMatchObject({ summary: expect.any(String), trends: expect.any(Array), score: 0.85 });
        const outline = (await ai({ prompt: 'Write an outline for an article about Redis' }, context())) as {
          text: string;
          json?: unknown;
        };
        expect(outline.text).toMatch(/^Stand-in answer/);
        expect(outline.json).toBeUndefined();
      } finally {
        await service.close();
      }
    });

    it('fails retryably, quoting the reply, when a json answer is not JSON', async () => {
      const responder = new ServiceResponder({
        channel: 'ai-requests',
        redis: { host: server.host, port: server.port },
        logger,
        handler: async () => ({
          text: `I think the data shows growth. ${'blah '.repeat(200)}`,
          model: 'm',
          provider: 'p',
          usage: { prompt_tokens: 1, completion_tokens: 1 },
        }),
      });
      await responder.start();
      try {
        const error = await createAiTask({ coordinator })({ prompt: 'x', response_format: 'json' }, context()).catch(
          (e: unknown) => e,
        );
        expect(error).not.toBeInstanceOf(PermanentTaskError);
        const message = (error as Error).message;
        expect(message).toMatch(
          /^the model's reply is not JSON \(response_format: json\): I think the data shows growth\./,
        );
        expect(message).toMatch(/… \(1031 chars\)$/);
        expect(message.length).toBeLessThan(600);
      } finally {
        await responder.close();
      }
    });
  });

  describe('directly on the chat-completions API', () => {
    it('is used for provider openai, and for everything once a base URL is configured', async () => {
      const chat = await chatServer(() => ({
        status: 200,
        content: '```json\n{"summary": "ok", "trends": ["a"]}\n```',
      }));
      try {
        const withBase = createAiTask({
          coordinator,
          openai: { baseUrl: chat.baseUrl, model: 'gpt-test', timeoutMs: 5000 },
        });
        const result = await withBase(
          { prompt: 'Analyse', provider: 'anthropic', response_format: 'json', temperature: 0.2 },
          context(),
        );
        expect(result).toEqual({
          text: '```json\n{"summary": "ok", "trends": ["a"]}\n```',
          json: { summary: 'ok', trends: ['a'] },
          model: 'gpt-test',
          provider: 'openai',
          usage: { prompt_tokens: 20, completion_tokens: 5 },
        });
        expect(chat.bodies[0]).toMatchObject({
          model: 'gpt-test',
          temperature: 0.2,
          messages: [
            { role: 'system', content: 'Reply with a single JSON object and nothing else.' },
            { role: 'user', content: 'Analyse' },
          ],
        });
        // provider: openai without a base URL would go to api.openai.com; without a key it is refused up front.
        await expect(
          createAiTask({ coordinator, openai: { model: 'm', timeoutMs: 1000 } })(
            { prompt: 'x', provider: 'openai' },
            context(),
          ),
        ).rejects.toThrow(PermanentTaskError);
        await expect(createAiTask({ coordinator })({ prompt: 'x', provider: 'openai' }, context())).rejects.toThrow(
          "provider 'openai' needs OPENAI_API_KEY",
        );
      } finally {
        await chat.close();
      }
    });

    it('maps 4xx to PermanentTaskError, 5xx and non-JSON replies to retryable failures', async () => {
      const chat = await chatServer((body) => {
        if (body.model === 'bad') return { status: 400 };
        if (body.model === 'down') return { status: 502 };
        return { status: 200, content: 'Sorry, I cannot produce JSON today.' };
      });
      try {
        const ai = (model: string) =>
          createAiTask({ coordinator, openai: { baseUrl: chat.baseUrl, model, timeoutMs: 5000 } })(
            { prompt: 'x', response_format: 'json' },
            context(),
          ).catch((e: unknown) => e);
        const bad = await ai('bad');
        expect(bad).toBeInstanceOf(PermanentTaskError);
        expect((bad as Error).message).toContain('answered 400');
        const down = await ai('down');
        expect(down).not.toBeInstanceOf(PermanentTaskError);
        expect(down).toMatchObject({ retryable: true, code: 'UPSTREAM_ERROR' });
        const prose = await ai('fine');
        expect(prose).not.toBeInstanceOf(PermanentTaskError);
        expect((prose as Error).message).toBe(
          "the model's reply is not JSON (response_format: json): Sorry, I cannot produce JSON today.",
        );
        expect(chat.bodies.filter((b) => b.model === 'down')).toHaveLength(1);
      } finally {
        await chat.close();
      }
    });

    it('stops at once when the attempt is aborted, and times out at the deadline', async () => {
      const chat = await chatServer(() => 'hang');
      try {
        const ai = createAiTask({ coordinator, openai: { baseUrl: chat.baseUrl, model: 'm', timeoutMs: 30_000 } });
        const controller = new AbortController();
        const received = once(chat.arrived, 'request');
        const call = ai({ prompt: 'x' }, context({ signal: controller.signal })).catch((e: unknown) => e);
        await withDeadline(received, 5000, 'the HTTP request');
        const reason = new Error('run cancelled');
        controller.abort(reason);
        expect(await withDeadline(call, 2000, 'the aborted call')).toBe(reason);
        const timedOut = await ai({ prompt: 'x' }, context({ deadline: Date.now() + 300 })).catch((e: unknown) => e);
        expect(timedOut).toMatchObject({ code: 'TIMEOUT', retryable: true });
        expect(timedOut).not.toBeInstanceOf(PermanentTaskError);
      } finally {
        await chat.close();
      }
    });
  });
});
