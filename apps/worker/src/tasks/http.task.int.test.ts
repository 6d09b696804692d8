import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpTaskSettings, parseHttpTaskSettings } from '@orch/config';
import type { TaskContext } from '@orch/engine';
import { byId, type Harness, startHarness, wf } from '@orch/engine/testing';
import { PermanentTaskError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { createHttpTask } from './http.task';

jest.setTimeout(60_000);

/** A local server answering with `answer`; it records every request it gets (and when). */
interface Endpoint {
  url: string;
  hits: { at: number; method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  server: Server;
}

async function endpoint(
  answer: (req: IncomingMessage, res: ServerResponse, hit: number) => void,
  host = '127.0.0.1',
): Promise<Endpoint> {
  const hits: Endpoint['hits'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(req, res, hits.length);
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, hits, server };
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

const settings = (env: Record<string, string>): HttpTaskSettings => {
  const errors: { pointer: string; message: string }[] = [];
  const parsed = parseHttpTaskSettings(env, errors);
  expect(errors).toEqual([]);
  return parsed;
};

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
async function serve(...args: Parameters<typeof endpoint>): Promise<Endpoint> {
  const e = await endpoint(...args);
  servers.push(e.server);
  return e;
}

describe('http tasks through the engine (tests allow 127.0.0.1 only)', () => {
  let h: Harness;
  const secretEnv = { ORDERS_TOKEN: 'tok-123', OTHER_SECRET: 'never-sent' };
  beforeAll(async () => {
    h = await startHarness();
    const http = createHttpTask(settings({ allow: '127.0.0.1/32', secretEnv: 'ORDERS_TOKEN' }), secretEnv);
    await h.startWorker({ handlers: { http: http as never } });
  });
  afterAll(() => h.stop());

  const task = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    wf([{ id: 'call', type: 'http', parameters, retry_policy: { max_retries: 2 }, ...extra }]);

  it('retries a 503 and completes with the 200 that follows', async () => {
    const api = await serve((_req, res, hit) =>
      hit === 1 ? json(res, 503, { busy: true }) : json(res, 200, { n: 7 }),
    );
    const record = await h.run(task({ url: `${api.url}/orders`, query: { page: 2 } }));
    expect(record.status).toBe('completed');
    expect(byId(record).call).toMatchObject({ attempts: 2, output: { status: 200, body: { n: 7 } } });
    expect(api.hits.map((x) => x.url)).toEqual(['/orders?page=2', '/orders?page=2']);
  });

  it('waits out a 429’s Retry-After before the next attempt', async () => {
    const api = await serve((_req, res, hit) =>
      hit === 1 ? json(res, 429, {}, { 'retry-after': '1' }) : json(res, 200, { ok: true }),
    );
    const record = await h.run(task({ url: api.url }));
    expect(byId(record).call).toMatchObject({ status: 'completed', attempts: 2 });
    const [first, second] = api.hits;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('fails a 404 at once (permanent) and names the status', async () => {
    const api = await serve((_req, res) => json(res, 404, { error: 'no such order' }));
    const record = await h.run(task({ url: api.url }));
    expect(byId(record).call).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byId(record).call?.error).toMatch(/answered 404/);
    expect(api.hits).toHaveLength(1);
  });

  it('refuses a redirect to a blocked address (127.0.0.2 is loopback, not on the allow list)', async () => {
    const hidden = await serve((_req, res) => json(res, 200, { secret: 'internal' }), '127.0.0.2');
    const api = await serve((_req, res) => {
      res.writeHead(302, { location: `${hidden.url}/admin` });
      res.end();
    });
    const record = await h.run(task({ url: api.url }));
    expect(byId(record).call).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byId(record).call?.error).toMatch(/127\.0\.0\.2, a blocked address/);
    expect(hidden.hits).toHaveLength(0);
  });

  it('puts a listed secret into a header, and the record never holds it', async () => {
    const api = await serve((_req, res) => json(res, 200, {}));
    const record = await h.run(
      task({ method: 'POST', url: api.url, headers: { authorization: 'Bearer ${env.ORDERS_TOKEN}' }, body: { a: 1 } }),
    );
    expect(record.status).toBe('completed');
    expect(api.hits[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(api.hits[0]?.headers.authorization).toBe('Bearer tok-123');
    expect(JSON.stringify(record)).not.toContain('tok-123');
  });

  it('refuses a secret HTTP_TASK_SECRET_ENV does not list, sending nothing', async () => {
    const api = await serve((_req, res) => json(res, 200, {}));
    const record = await h.run(task({ url: api.url, headers: { 'x-key': '${env.OTHER_SECRET}' } }));
    expect(byId(record).call).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byId(record).call?.error).toMatch(/HTTP_TASK_SECRET_ENV does not list/);
    expect(api.hits).toHaveLength(0);
  });

  it('does not let an upstream output that spells ${env.X} reach a secret', async () => {
    const api = await serve((_req, res) => json(res, 200, {}));
    const record = await h.run(
      wf([
        { id: 'evil', type: 'transform', parameters: { output: '$${env.ORDERS_TOKEN}' } },
        {
          id: 'call',
          type: 'http',
          depends_on: ['evil'],
          parameters: { url: api.url, headers: { x: '${evil.output}' } },
        },
      ]),
    );
    expect(record.status).toBe('completed');
    expect(api.hits[0]?.headers.x).toBe('${env.ORDERS_TOKEN}');
  });
});

describe('the default policy (nothing allowed) refuses the SSRF targets', () => {
  const logger = createLogger({ level: 'error' });
  const context = (): TaskContext => ({
    executionId: 'e',
    taskId: 't',
    attempt: 1,
    signal: new AbortController().signal,
    logger,
    log: () => undefined,
  });
  const http = createHttpTask(settings({}), {});
  let local: Endpoint;
  beforeAll(async () => {
    local = await serve((_req, res) => json(res, 200, { reached: true }));
  });

  it.each([
    ['a literal loopback address', (port: string) => `http://127.0.0.1:${port}/`, '127.0.0.1'],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['an IPv4-mapped IPv6 loopback', (port: string) => `http://[::ffff:127.0.0.1]:${port}/`, '127.0.0.1'],
    ['IPv6 loopback', (port: string) => `http://[::1]:${port}/`, '::1'],
    ['a decimal spelling of loopback', (port: string) => `http://2130706433:${port}/`, '127.0.0.1'],
    ['a DNS name resolving to loopback', (port: string) => `http://localhost:${port}/`, '127.0.0.1|::1'],
  ])('%s', async (_what, url, address) => {
    const port = new URL(local.url).port;
    const attempt = http({ url: url(port) }, context());
    await expect(attempt).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(attempt).rejects.toThrow(new RegExp(`is (${address}), a blocked address`));
    expect(local.hits).toHaveLength(0);
  });

  it('refuses a host HTTP_TASK_DENY names, even a public one', async () => {
    const denying = createHttpTask(settings({ deny: '*.example.com' }), {});
    await expect(denying({ url: 'https://api.example.com/' }, context())).rejects.toThrow(/refused by HTTP_TASK_DENY/);
  });
});
