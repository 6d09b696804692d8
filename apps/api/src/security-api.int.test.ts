import { type Harness, startApi, startHarness, type TestApi } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let secured: TestApi;
let open: TestApi;
beforeAll(async () => {
  h = await startHarness();
  secured = await startApi(h, {
    ORCHESTRATOR_API_KEYS: 'key-one, key-two',
    ORCHESTRATOR_CORS_ORIGINS: 'https://app.example',
  });
  open = await startApi(h);
});
afterAll(async () => {
  await secured?.service.close();
  await open?.service.close();
  await h?.stop();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const PROTECTED = [
  '/status',
  '/metrics',
  '/api/v1/templates',
  '/api/v1/workflows',
  '/api/v1/openapi.json',
  '/docs',
  '/docs/swagger-ui-bundle.js',
  '/admin/queues',
  '/admin/queues/api/queues',
  '/no-such-route',
];

describe('with ORCHESTRATOR_API_KEYS set', () => {
  it('leaves /health open', async () => {
    const health = await secured.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });

  it.each(PROTECTED)('answers 401 on %s without a key', async (path) => {
    const answer = await secured.call('GET', path);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="orchestrator"');
    expect(answer.body).toEqual({
      error: {
        code: 'UNAUTHORIZED',
        message: 'this route needs an API key: send Authorization: Bearer <key>',
        details: [],
      },
    });
  });

  it('answers 401 for a wrong key, including one that is a prefix of a real key', async () => {
    for (const key of ['nope', 'key-on', 'key-one-and-more']) {
      const answer = await secured.call('GET', '/status', { headers: bearer(key) });
      expect(answer.status).toBe(401);
      expect(answer.body.error.message).toBe('the API key is not valid');
    }
    const basic = await secured.call('GET', '/status', { headers: { authorization: 'Basic a2V5LW9uZTo=' } });
    expect(basic.status).toBe(401);
  });

  it.each(['key-one', 'key-two'])('accepts %s on every protected route', async (key) => {
    for (const path of PROTECTED.filter((p) => p !== '/no-such-route')) {
      const answer = await secured.call('GET', path, { headers: bearer(key) });
      expect([path, answer.status]).toEqual([path, 200]);
    }
    const unknown = await secured.call('GET', '/no-such-route', { headers: bearer(key) });
    expect(unknown.status).toBe(404);
  });

  it('serves Bull Board at its mount path: the page, an asset it names, and its API over our queues', async () => {
    const page = await secured.call('GET', '/admin/queues', { headers: bearer('key-one') });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<base href="/admin/queues/" />');
    const script = /src="(static\/js\/main\.[0-9a-f]+\.js)"/.exec(page.text)?.[1];
    const css = /href="(static\/css\/main\.[0-9a-f]+\.css)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${secured.url}/admin/queues/${script}`, { headers: bearer('key-one') });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(1000);
    const style = await fetch(`${secured.url}/admin/queues/${css}`, { headers: bearer('key-one') });
    expect(style.status).toBe(200);
    const queues = await secured.call('GET', '/admin/queues/api/queues', { headers: bearer('key-one') });
    expect(queues.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['control', 'tasks', 'workflows']);
  });

  it('serves the docs page and Swagger UI from the installed package, with the document embedded', async () => {
    const page = await secured.call('GET', '/docs', { headers: bearer('key-one') });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
    expect(page.text).not.toMatch(/https?:\/\//);
    const init = await secured.call('GET', '/docs/init.js', { headers: bearer('key-one') });
    expect(init.text).toContain('"openapi":"3.1.0"');
    const css = await fetch(`${secured.url}/docs/swagger-ui.css`, { headers: bearer('key-one') });
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await secured.call('GET', '/docs/index.html', { headers: bearer('key-one') });
    expect(missing.status).toBe(404);
  });

  it('sends a deny-all CSP on API responses and helmet defaults (without the https upgrade) on pages', async () => {
    const api = await secured.call('GET', '/health');
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-powered-by')).toBeNull();
    for (const path of ['/docs', '/admin/queues']) {
      const page = await secured.call('GET', path, { headers: bearer('key-one') });
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(csp).not.toContain('unsafe-eval');
    }
  });

  it('answers CORS preflights for configured origins only, without needing a key', async () => {
    const preflight = (origin: string) =>
      fetch(`${secured.url}/api/v1/workflows`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toBe(
      'authorization,content-type,last-event-id,x-request-id,traceparent,tracestate',
    );
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('without ORCHESTRATOR_API_KEYS', () => {
  it('serves every route without a key, Bull Board and metrics included', async () => {
    for (const path of ['/status', '/metrics', '/api/v1/templates', '/docs', '/admin/queues']) {
      expect([path, (await open.call('GET', path)).status]).toEqual([path, 200]);
    }
  });

  it('warns once at start that the API is open, and only the instance without keys does', async () => {
    const warning = (l: Record<string, unknown>) =>
      l.level === 'warn' && String(l.message).startsWith('ORCHESTRATOR_API_KEYS is not set');
    expect(open.logs.filter(warning)).toHaveLength(1);
    expect(secured.logs.filter(warning)).toHaveLength(0);
  });

  it('sends no CORS headers when no origin is configured', async () => {
    const answer = await fetch(`${open.url}/health`, { headers: { origin: 'https://app.example' } });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });
});
