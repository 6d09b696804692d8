import { EXECUTION_STATUSES } from '@orch/run-model';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  api = await startApi(h);
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});
beforeEach(() => {
  h.calls.length = 0;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const links = (id: string) => ({
  self: `/api/v1/workflows/${id}`,
  status: `/api/v1/workflows/${id}/status`,
  events: `/api/v1/workflows/${id}/events`,
  cancel: `/api/v1/workflows/${id}/cancel`,
});
const submit = (body: unknown) => api.call('POST', '/api/v1/workflows', { body });

describe('POST /api/v1/workflows', () => {
  it('runs an inline workflow: 202 with links, then status and the full record', async () => {
    const created = await submit({ correlation_id: 'inline-1', workflow: wf([probe('a'), probe('b', ['a'])]) });
    expect(created.status).toBe(202);
    const id = created.body.execution_id as string;
    expect(id).toMatch(UUID);
    expect(created.body).toEqual({
      execution_id: id,
      status: 'running',
      correlation_id: 'inline-1',
      created: true,
      links: links(id),
    });
    expect(created.headers.get('location')).toBe(`/api/v1/workflows/${id}/status`);
    await h.waitForEnd(id);

    const status = await api.call('GET', `/api/v1/workflows/${id}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      execution_id: id,
      status: 'completed',
      correlation_id: 'inline-1',
      workflow: { id: 'test' },
      progress: { total: 2, completed: 2, failed: 0, pending: 0 },
    });
    expect(status.body.variables).toBeUndefined();
    expect(status.body.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
    expect(status.body.tasks.some((t: object) => 'output' in t)).toBe(false);

    const record = await api.call('GET', `/api/v1/workflows/${id}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ execution_id: id, status: 'completed', variables: {} });
    expect(record.body.tasks.map((t: { output: unknown }) => t.output)).toEqual([1, 2]);
  });

  it('runs a catalog template with the reference body and records the template', async () => {
    const created = await submit({
      correlation_id: 'workflow-001',
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'running', correlation_id: 'workflow-001', created: true });
    const record = await h.waitForEnd(created.body.execution_id);
    expect(record.template).toEqual({ id: 'data-analysis-basic', version: '1.0' });
    expect(record.variables).toMatchObject({ query_limit: 50, analysis_prompt: 'Identify key trends in the data' });
    expect(h.calls.map((c) => c.task)).toEqual(expect.arrayContaining(['graph_traversal', 'vector_search']));
  });

  it('answers a repeated correlation id and body with 200 and the existing run', async () => {
    const first = await submit({ correlation_id: 'repeat-1', workflow: wf([probe('once')]) });
    const again = await submit({ correlation_id: 'repeat-1', workflow: wf([probe('once')]) });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      execution_id: first.body.execution_id,
      correlation_id: 'repeat-1',
      created: false,
      links: links(first.body.execution_id),
    });
    await h.waitForEnd(first.body.execution_id);
    expect(h.calls.map((c) => c.task)).toEqual(['once']);
  });

  it('starts exactly one run for 20 concurrent submits with one correlation id', async () => {
    const body = { correlation_id: 'race-20', workflow: wf([probe('raced')]) };
    const answers = await Promise.all(Array.from({ length: 20 }, () => submit(body)));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(19).fill(200), 202]);
    const ids = new Set(answers.map((a) => a.body.execution_id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    await h.waitForEnd(id);
    expect(h.calls.filter((c) => c.task === 'raced')).toHaveLength(1);
    const listed = await api.call('GET', '/api/v1/workflows?limit=200');
    expect(listed.body.items.filter((r: { correlation_id?: string }) => r.correlation_id === 'race-20')).toEqual([
      expect.objectContaining({ execution_id: id, status: 'completed' }),
    ]);
  });
});

describe('GET /api/v1/workflows', () => {
  it('lists newest first and pages with next_cursor until the end', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await submit({ correlation_id: `page-${i}`, workflow: wf([probe('p')]) });
      ids.push(created.body.execution_id);
      await h.waitForEnd(created.body.execution_id);
    }
    const seen: string[] = [];
    let path: string | null = '/api/v1/workflows?status=completed&limit=2';
    let pages = 0;
    while (path) {
      const page = await api.call('GET', path);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      for (const item of page.body.items) {
        expect(item.status).toBe('completed');
        seen.push(item.execution_id);
      }
      if (page.body.next_cursor)
        expect(page.body.links.next).toContain(`cursor=${encodeURIComponent(page.body.next_cursor)}`);
      path = page.body.links.next;
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters by template', async () => {
    const listed = await api.call('GET', '/api/v1/workflows?template=data-analysis-basic');
    expect(listed.status).toBe(200);
    expect(listed.body.items.length).toBeGreaterThan(0);
    for (const item of listed.body.items) expect(item.template).toEqual({ id: 'data-analysis-basic', version: '1.0' });
  });

  it('rejects bad query parameters with pointers', async () => {
    const bad = await api.call('GET', '/api/v1/workflows?limit=0&status=bogus&color=red');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'query string is invalid',
        details: [
          { pointer: '/color', message: "unknown field 'color'" },
          {
            pointer: '/status',
            message: `must be one of: ${EXECUTION_STATUSES.map((x) => JSON.stringify(x)).join(', ')}`,
          },
          { pointer: '/limit', message: 'must be an integer from 1 to 200' },
        ],
      },
    });
    const cursor = await api.call('GET', '/api/v1/workflows?cursor=abc');
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'invalid cursor',
      details: [{ pointer: '/cursor', message: 'must be a next_cursor returned by this endpoint' }],
    });
  });
});

describe('cancel and retry', () => {
  it('cancels a running run (202), which ends cancelled; a second cancel is a 409', async () => {
    const created = await submit({ workflow: wf([probe('slow', [], { sleep_ms: 30_000 })]) });
    const id = created.body.execution_id;
    await h.started('slow');
    const cancel = await api.call('POST', `/api/v1/workflows/${id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ execution_id: id, status: 'running', cancel_requested: true, links: links(id) });
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('cancelled');
    const again = await api.call('POST', `/api/v1/workflows/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      error: {
        code: 'CONFLICT',
        message: `execution ${id} already ended as cancelled; it cannot be cancelled`,
        details: [],
      },
    });
  });

  it('retries a failed run reusing completed outputs; a running run or a complete one is a 409', async () => {
    const slow = await submit({ workflow: wf([probe('hold', [], { sleep_ms: 30_000 })]) });
    await h.started('hold');
    const early = await api.call('POST', `/api/v1/workflows/${slow.body.execution_id}/retry`);
    expect(early.status).toBe(409);
    expect(early.body.error).toEqual({
      code: 'CONFLICT',
      message: `execution ${slow.body.execution_id} is running; only a finished run can be retried`,
      details: [],
    });
    await api.call('POST', `/api/v1/workflows/${slow.body.execution_id}/cancel`);

    const failing = await submit({
      workflow: wf([probe('ok1'), probe('boom', ['ok1'], { permanent: true })]),
    });
    const failed = await h.waitForEnd(failing.body.execution_id);
    expect(failed.status).toBe('failed');
    const retry = await api.call('POST', `/api/v1/workflows/${failing.body.execution_id}/retry`);
    expect(retry.status).toBe(202);
    const newId = retry.body.execution_id;
    expect(retry.body).toEqual({
      execution_id: newId,
      status: 'running',
      retried_from: failing.body.execution_id,
      reused: ['ok1'],
      links: links(newId),
    });
    await h.waitForEnd(newId);
    expect(h.calls.filter((c) => c.task === 'ok1')).toHaveLength(1);

    const done = await submit({ workflow: wf([probe('fine')]) });
    await h.waitForEnd(done.body.execution_id);
    const nothing = await api.call('POST', `/api/v1/workflows/${done.body.execution_id}/retry`);
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.message).toBe(
      `execution ${done.body.execution_id} completed every task; there is nothing to retry`,
    );
  });
});

describe('unknown execution ids', () => {
  it.each([
    ['GET', '/api/v1/workflows/nope'],
    ['GET', '/api/v1/workflows/nope/status'],
    ['GET', '/api/v1/workflows/nope/events'],
    ['POST', '/api/v1/workflows/nope/cancel'],
    ['POST', '/api/v1/workflows/nope/retry'],
  ])('%s %s is a 404', async (method, path) => {
    const answer = await api.call(method, path);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      error: { code: 'NOT_FOUND', message: "execution 'nope' was not found", details: [] },
    });
  });
});

describe('templates and validation', () => {
  it('lists the catalog without server paths and returns one template', async () => {
    const list = await api.call('GET', '/api/v1/templates');
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(2);
    expect(list.body.templates.map((t: { id: string }) => t.id)).toEqual([
      'ai-content-pipeline',
      'data-analysis-basic',
    ]);
    expect(list.body.templates[1]).toMatchObject({
      id: 'data-analysis-basic',
      name: 'Data Analysis Pipeline',
      category: 'data-science',
      version: '1.0',
      tasks: 6,
    });
    expect(list.body.templates.some((t: object) => 'path' in t)).toBe(false);
    const one = await api.call('GET', '/api/v1/templates/data-analysis-basic');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 'data-analysis-basic', workflow: { id: 'data-analysis-basic-execution' } });
    const missing = await api.call('GET', '/api/v1/templates/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'NOT_FOUND', message: "template 'nope' was not found", details: [] },
    });
  });

  it('validates and plans a catalog template', async () => {
    const answer = await api.call('POST', '/api/v1/validate', {
      body: { workflow_template: 'data-analysis-basic', variables: { query_limit: 5 } },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.valid).toBe(true);
    expect(answer.body.plan.levels[0].map((t: { id: string }) => t.id)).toEqual(['graph_traversal', 'vector_search']);
    expect(answer.body.plan.depth).toBe(answer.body.plan.levels.length);
  });

  it('reports problems of variables, inline workflows and inline templates with pointers into the body', async () => {
    const vars = await api.call('POST', '/api/v1/validate', {
      body: { workflow_template: 'data-analysis-basic', variables: { query_limit: 'lots' } },
    });
    expect(vars.status).toBe(200);
    expect(vars.body).toEqual({
      valid: false,
      message: "variables do not fit template 'data-analysis-basic'",
      errors: [{ pointer: '/variables/query_limit', message: `variable 'query_limit' must be an integer; got "lots"` }],
    });
    const cycle = await api.call('POST', '/api/v1/validate', {
      body: { workflow: wf([probe('x', ['y']), probe('y', ['x'])]) },
    });
    expect(cycle.body).toEqual({
      valid: false,
      message: 'workflow is invalid',
      errors: [{ pointer: '/workflow/tasks', message: 'dependency cycle: x -> y -> x' }],
    });
    const template = await api.call('POST', '/api/v1/validate', {
      body: { template: { id: 'Bad Id', name: 't', workflow: wf([probe('a')]) } },
    });
    expect(template.body).toEqual({
      valid: false,
      message: "template 'Bad Id' is invalid",
      errors: [
        {
          pointer: '/template/id',
          message: 'must be lower-case letters, digits, ., _ and -, starting with a letter or digit',
        },
      ],
    });
  });

  it('answers 400 when the envelope itself is wrong', async () => {
    const none = await api.call('POST', '/api/v1/validate', { body: { variables: {} } });
    expect(none.status).toBe(400);
    expect(none.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'request body is invalid',
      details: [{ pointer: '', message: 'needs one of workflow_template, template, workflow' }],
    });
  });
});
