import { failure, reply, useModelServer, VALID } from './test-generator-fixtures';
import { startModelServer, withDeadline } from './testing';
import { UpstreamError } from './upstream-error';
import { WorkflowGenerator } from './workflow-generator';

const setup = useModelServer();

describe('the model endpoint', () => {
  it('falls back to json_object when the server refuses json_schema, and remembers it', async () => {
    const { server, generator } = await setup((request) =>
      request.body.response_format.type === 'json_schema'
        ? {
            status: 400,
            json: {
              error: { message: "response_format type 'json_schema' is not supported", type: 'invalid_request' },
            },
          }
        : reply(VALID),
    );
    const first = await generator.generate({ prompt: 'Summarise the graph' });
    expect(first.valid).toBe(true);
    expect(first.attempts).toBe(1);
    expect(server.requests.map((r) => r.body.response_format.type)).toEqual(['json_schema', 'json_object']);
    expect(server.requests[1]!.body.response_format).toEqual({ type: 'json_object' });
    expect(generator.responseFormat).toBe('json_object');

    await generator.generate({ prompt: 'Summarise the graph again' });
    expect(server.requests.map((r) => r.body.response_format.type)).toEqual([
      'json_schema',
      'json_object',
      'json_object',
    ]);
  });

  it('waits as long as retry-after says after a 429, then succeeds', async () => {
    const { server, generator } = await setup((_, n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } }
        : reply(VALID),
    );
    const result = await generator.generate({ prompt: 'Summarise the graph' });
    expect(result.valid).toBe(true);
    expect(result.attempts).toBe(1);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('backs off exponentially from the initial delay after 5xx answers', async () => {
    const { server, generator } = await setup(
      (_, n) => (n < 2 ? { status: 502, json: { error: { message: 'bad gateway' } } } : reply(VALID)),
      { retry: { initialDelayMs: 100 } },
    );
    await generator.generate({ prompt: 'Summarise the graph' });
    const [a, b, c] = server.requests.map((r) => r.at) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(95);
    expect(c - b).toBeGreaterThanOrEqual(195);
  });

  it('throws UPSTREAM_ERROR with the status once 5xx retries are exhausted', async () => {
    const { server, generator } = await setup(() => ({ status: 503, json: { error: { message: 'overloaded' } } }), {
      retry: { maxRetries: 2, initialDelayMs: 10 },
    });
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.status).toBe(502);
    expect(error.message).toBe('model endpoint answered 503: overloaded');
    expect((error as UpstreamError).upstreamStatus).toBe(503);
    expect(error.details).toEqual([
      { pointer: '', message: 'request 1: 503: overloaded' },
      { pointer: '', message: 'request 2: 503: overloaded' },
      { pointer: '', message: 'request 3: 503: overloaded' },
    ]);
    expect(server.requests).toHaveLength(3);
  });

  it('retries an unreachable endpoint, then throws UPSTREAM_ERROR without a status', async () => {
    const gone = await startModelServer(() => 'hang');
    await gone.close();
    const generator = new WorkflowGenerator({
      baseUrl: gone.baseUrl,
      model: 'test-model',
      timeoutMs: 5_000,
      retry: { maxRetries: 1, initialDelayMs: 10 },
    });
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));
    expect(error.code).toBe('UPSTREAM_ERROR');
    const port = new URL(gone.baseUrl).port;
    expect(error.message).toBe(
      `model endpoint could not be reached: Connection error. (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    expect((error as UpstreamError).upstreamStatus).toBeUndefined();
    expect(error.details).toHaveLength(2);
  });

  it('treats an answer without choices as an upstream failure', async () => {
    const { generator } = await setup(() => ({ text: 'hello' }));
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));
    expect(error.toJSON()).toEqual({
      code: 'UPSTREAM_ERROR',
      message: 'model endpoint answered without a chat completion (no choices)',
      details: [{ pointer: '', message: 'request 1: no choices in the answer' }],
    });
  });

  it('does not retry other client errors', async () => {
    const { server, generator } = await setup(() => ({ status: 401, json: { error: { message: 'bad key' } } }));
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));
    expect(error.message).toBe('model endpoint answered 401: bad key');
    expect((error as UpstreamError).upstreamStatus).toBe(401);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up at once when retry-after points past the deadline', async () => {
    const { server, generator } = await setup(
      () => ({ status: 429, headers: { 'retry-after': '30' }, json: { error: { message: 'quota' } } }),
      { timeoutMs: 2_000, retry: { maxDelayMs: 60_000 } },
    );
    const started = Date.now();
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));
    expect(error.message).toBe('model endpoint answered 429: quota');
    expect((error as UpstreamError).upstreamStatus).toBe(429);
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('throws TIMEOUT when the endpoint hangs past the budget, and closes the connection', async () => {
    const { server, generator } = await setup(() => 'hang', { timeoutMs: 300 });
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));

    expect(error.code).toBe('TIMEOUT');
    expect(error.status).toBe(504);
    expect(error.message).toBe('workflow generation did not finish within 300 ms');
    const request = await server.request(0);
    await withDeadline(request.socketClosed, 2_000, 'the client to close the hung connection');
  });
});
