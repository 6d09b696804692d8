import { waitUntil } from '@orch/testing';
import { openapiPath, ROUTES } from './routes';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  // The harness's queues print Redis errors without a listener; the outage test below causes some on purpose.
  for (const queue of h.ctx.queues.all()) queue.on('error', () => undefined);
  await h.startWorker({ concurrency: 10 });
  api = await startApi(h);
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const metric = (text: string, line: string) => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

describe('GET /health', () => {
  it('is up when Redis answers', async () => {
    const health = await api.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'ok',
      redis: { status: 'ok', ping_ms: expect.any(Number) },
      uptime_s: expect.any(Number),
    });
  });
});

describe('GET /status', () => {
  it('reports workflows, templates, recovery counters, Redis, queues, version and uptime', async () => {
    await h.connection.hset(h.ctx.keys.counters(), 'resumed', 3, 'orphans_failed', 1);
    const blocker = await api.call('POST', '/api/v1/workflows', {
      body: { workflow: wf([probe('status_hold', [], { sleep_ms: 30_000 })]) },
    });
    await h.started('status_hold');
    const status = await api.call('GET', '/status');
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      service: 'orchestrator-api',
      version: '0.1.0',
      uptime_s: expect.any(Number),
      workflows: { active: 1, pending: 0, max_concurrent: 10 },
      templates: { count: 2, by_category: { content: 1, 'data-science': 1 }, tasks: 14, invalid_files: [] },
      recovery: { enabled: true, strategy: 'resume', counters: { resumed: 3, orphans_failed: 1 } },
      redis: { status: 'ready' },
      queues: {
        workflows: expect.objectContaining({ 'waiting-children': 1 }),
        tasks: expect.objectContaining({ active: 1 }),
        // The run's deadline is an entry in the deadline set, not a delayed control job.
        control: expect.objectContaining({ delayed: 0 }),
      },
      sse_streams: 0,
      workers: { live: 1, lost: 0 },
    });
    await api.call('POST', `/api/v1/workflows/${blocker.body.execution_id}/cancel`);
    await h.waitForEnd(blocker.body.execution_id);
  });
});

describe('GET /metrics', () => {
  it('exposes submissions, finished runs by status, queue depths, Redis state and request durations', async () => {
    const ok = await api.call('POST', '/api/v1/workflows', { body: { workflow: wf([probe('m1')]) } });
    const bad = await api.call('POST', '/api/v1/workflows', {
      body: { workflow: wf([probe('m2', [], { permanent: true })]) },
    });
    await api.call('POST', '/api/v1/workflows', {
      body: { correlation_id: 'metrics-dup', workflow: wf([probe('m3')]) },
    });
    const dup = await api.call('POST', '/api/v1/workflows', {
      body: { correlation_id: 'metrics-dup', workflow: wf([probe('m3')]) },
    });
    expect(dup.status).toBe(200);
    // The counter moves when this API hears the finished channel; wait for exactly that, not for time.
    for (const id of [ok.body.execution_id, bad.body.execution_id, dup.body.execution_id]) {
      await api.waitForLog((l) => l.message === 'run finished' && l.execution_id === id, `run ${id} finished`);
    }
    // A run ends as its last task is recorded, a moment before that task's job is: wait for the jobs too.
    await waitUntil(
      async () => ((await h.ctx.queues.tasks.getJobCounts('completed')).completed ?? 0) >= 2,
      10_000,
      'the task jobs to finish',
    );
    await api.call('GET', '/health');
    const scrape = await api.call('GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = scrape.text;
    expect(
      metric(text, 'orchestrator_workflows_submitted_total{source="http",template="inline",outcome="created"}'),
    ).toBe(4); // the blocker of the /status test, and three here
    expect(
      metric(text, 'orchestrator_workflows_submitted_total{source="http",template="inline",outcome="duplicate"}'),
    ).toBe(1);
    expect(metric(text, 'orchestrator_workflows_finished_total{status="completed"}')).toBe(2);
    expect(metric(text, 'orchestrator_workflows_finished_total{status="failed"}')).toBe(1);
    expect(metric(text, 'orchestrator_workflows_finished_total{status="cancelled"}')).toBe(1);
    expect(metric(text, 'orchestrator_queue_jobs{queue="tasks",state="completed"}')).toBeGreaterThanOrEqual(2);
    expect(metric(text, 'orchestrator_workflows{state="active"}')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'orchestrator_recovery_operations{operation="resumed"}')).toBe(3);
    expect(metric(text, 'orchestrator_redis_up')).toBe(1);
    expect(metric(text, 'orchestrator_sse_streams')).toBe(0);
    expect(
      metric(text, 'orchestrator_http_request_duration_seconds_count{method="GET",route="/health",status="200"}'),
    ).toBe(2);
    expect(
      metric(
        text,
        'orchestrator_http_request_duration_seconds_count{method="POST",route="/api/v1/workflows",status="202"}',
      ),
    ).toBe(4);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });
});

describe('logs', () => {
  it('writes JSON lines with the run ids, and one line per request with its route pattern', async () => {
    const created = await api.call('POST', '/api/v1/workflows', {
      body: { correlation_id: 'logged-1', workflow: wf([probe('logged')]) },
    });
    const id = created.body.execution_id;
    const submitted = await api.waitForLog((l) => l.message === 'workflow submitted' && l.execution_id === id, 'log');
    expect(submitted).toMatchObject({ level: 'info', correlation_id: 'logged-1', source: 'http', template: 'inline' });
    await api.call('GET', `/api/v1/workflows/${id}/status`);
    const line = await api.waitForLog(
      (l) => l.message === 'request' && l.route === '/api/v1/workflows/:id/status' && l.execution_id === id,
      'the request line',
    );
    expect(line).toEqual({
      level: 'info',
      message: 'request',
      service: 'api-test',
      method: 'GET',
      route: '/api/v1/workflows/:id/status',
      status: 200,
      ms: expect.any(Number),
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      execution_id: id,
      timestamp: expect.any(String),
    });
    await h.waitForEnd(id);
  });
});

describe('OpenAPI', () => {
  it('documents every route of the route table, and nothing else', async () => {
    const doc = await api.call('GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, { operationId: string }>>)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `${method} ${path} ${op.operationId}`))
      .sort();
    const routed = ROUTES.map((r) => `${r.method} ${openapiPath(r.path)} ${r.operationId}`).sort();
    expect(documented).toEqual(routed);
    expect(doc.body.paths['/health'].get.security).toEqual([]);
    expect(doc.body.paths['/api/v1/workflows/{id}/status'].get.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
      { $ref: '#/components/parameters/RequestId' },
      { $ref: '#/components/parameters/TraceParent' },
    ]);
  });

  it('resolves every $ref and carries no ajv-only keywords', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json')).body;
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) {
      expect([name, doc.components.schemas[name as string] !== undefined]).toEqual([name, true]);
    }
    expect(text).not.toContain('x-message');
    expect(text).not.toContain('x-or-expression');
  });

  it('renders the docs page for the same document', async () => {
    const page = await api.call('GET', '/docs');
    expect(page.status).toBe(200);
    const init = await api.call('GET', '/docs/init.js');
    expect(init.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const spec = JSON.parse(/spec: (.*),\n {2}dom_id/.exec(init.text)?.[1] ?? 'null');
    expect(spec).toEqual((await api.call('GET', '/api/v1/openapi.json')).body);
  });
});

describe('when Redis goes away', () => {
  it('answers 503 on /health and on routes that need Redis, keeps /metrics up, and recovers', async () => {
    await h.server.stop({ keepDir: true });
    const health = await api.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(health.body.error.message).toMatch(/^Redis is unreachable \(\w+\): /);
    const status = await api.call('GET', '/api/v1/workflows/any/status');
    expect(status.status).toBe(503);
    expect(status.body).toEqual({
      error: { code: 'SERVICE_UNAVAILABLE', message: 'Redis is unavailable; try again shortly', details: [] },
    });
    const metrics = await api.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metric(metrics.text, 'orchestrator_redis_up')).toBe(0);

    // Not events.once: it would reject on the connection's 'error' events while Redis is away.
    const ready = new Promise((resolve) => api.service.deps.redis.once('ready', resolve));
    await h.server.restart();
    await ready;
    expect((await api.call('GET', '/health')).status).toBe(200);
  });
});
