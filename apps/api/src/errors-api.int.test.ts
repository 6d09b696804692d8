import { CORRELATION_ID_HINT } from '@orch/core';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  api = await startApi(h, { ORCHESTRATOR_BODY_LIMIT: '2kb' });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const post = (body: unknown) => api.call('POST', '/api/v1/workflows', { body });

describe('error bodies', () => {
  it('400 for a body that is not valid JSON, saying so', async () => {
    const answer = await api.call('POST', '/api/v1/workflows', {
      raw: '{"workflow_template": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('BAD_REQUEST');
    expect(answer.body.error.message).toMatch(/^request body is not valid JSON: /);
    expect(answer.body.error.details).toEqual([{ pointer: '', message: 'is not valid JSON' }]);
  });

  it('415 for a body that is not sent as JSON, 400 for none or one that is not an object', async () => {
    const form = {
      raw: 'workflow_template=data-analysis-basic',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
    const text = await api.call('POST', '/api/v1/workflows', form);
    expect(text.status).toBe(415);
    expect(text.body).toEqual({
      error: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message:
          'request body must be JSON sent as Content-Type: application/json; got Content-Type application/x-www-form-urlencoded',
        details: [{ pointer: '', message: 'is not sent as application/json' }],
      },
    });
    // curl -d sends a form: an approval whose payload was dropped would still approve.
    const approval = await api.call('POST', '/api/v1/workflows/any/tasks/review/approve', form);
    expect([approval.status, approval.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const none = await api.call('POST', '/api/v1/workflows');
    expect(none.body).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message: 'request body must be a JSON object sent as Content-Type: application/json',
        details: [{ pointer: '', message: 'is missing' }],
      },
    });
    const list = await post([1, 2]);
    expect(list.status).toBe(400);
    expect(list.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'request body is invalid',
      details: [{ pointer: '', message: 'must be a JSON object' }],
    });
  });

  it('400 for envelope errors, with a pointer per problem', async () => {
    const answer = await post({
      correlation_id: 'has space',
      workflow_template: 'data-analysis-basic',
      variables: [],
      extra: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'request body is invalid',
        details: [
          { pointer: '/extra', message: "unknown field 'extra'" },
          { pointer: '/correlation_id', message: CORRELATION_ID_HINT },
          { pointer: '/variables', message: 'must be object' },
        ],
      },
    });
  });

  it('400 for neither or both of workflow_template and workflow', async () => {
    expect((await post({ variables: {} })).body.error.details).toEqual([
      { pointer: '', message: 'needs one of workflow_template, workflow' },
    ]);
    expect(
      (await post({ workflow_template: 'data-analysis-basic', workflow: wf([probe('a')]) })).body.error.details,
    ).toEqual([
      {
        pointer: '/workflow',
        message: 'give only one of workflow_template, workflow; got workflow_template and workflow',
      },
    ]);
  });

  it('400 for variables that do not fit the template, naming each', async () => {
    const answer = await post({
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 'many', bogus: 1 },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: "variables do not fit template 'data-analysis-basic'",
        details: [
          {
            pointer: '/variables/bogus',
            message:
              "unknown variable 'bogus'; this template declares: query_limit, analysis_prompt, search_text, top_k",
          },
          { pointer: '/variables/query_limit', message: `variable 'query_limit' must be an integer; got "many"` },
        ],
      },
    });
  });

  it('400 for an unknown template and for an invalid inline workflow', async () => {
    const unknown = await post({ workflow_template: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: "unknown workflow template 'nope'",
      details: [
        {
          pointer: '/workflow_template',
          message: "no template 'nope' in the catalog; available: ai-content-pipeline, data-analysis-basic",
        },
      ],
    });
    const inline = await post({
      workflow: {
        id: 'w',
        tasks: [
          { id: 'a', type: 'nope' },
          { id: 'b', type: 'data', depends_on: ['zzz'], parameters: { operation: 'search' } },
        ],
      },
    });
    expect(inline.status).toBe(400);
    expect(inline.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'workflow is invalid',
      details: [
        {
          pointer: '/workflow/tasks/0/type',
          message: expect.stringMatching(/^unknown task type 'nope'; known types: data, ai, exec, http, parallel, /),
        },
        { pointer: '/workflow/tasks/1/depends_on/0', message: "unknown task 'zzz'" },
      ],
    });
    // Nothing was enqueued for any of the invalid requests.
    expect(await h.connection.zcard(h.ctx.keys.index())).toBe(0);
  });

  it('413 for a body above ORCHESTRATOR_BODY_LIMIT', async () => {
    const answer = await post({
      workflow_template: 'data-analysis-basic',
      variables: { analysis_prompt: 'x'.repeat(3000) },
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body is larger than the limit of 2048 bytes (ORCHESTRATOR_BODY_LIMIT)',
        details: [],
      },
    });
  });

  it('404 in JSON for unknown routes', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v1/workflows/x/y/z'],
    ] as const) {
      const answer = await api.call(method, path);
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ error: { code: 'NOT_FOUND', message: `no route ${method} ${path}`, details: [] } });
    }
  });

  it('405 with Allow for a known path and a wrong method', async () => {
    const answer = await api.call('DELETE', '/api/v1/workflows');
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST, GET, HEAD');
    expect(answer.body).toEqual({
      error: {
        code: 'METHOD_NOT_ALLOWED',
        message: 'DELETE is not allowed on /api/v1/workflows; use POST, GET, HEAD',
        details: [],
      },
    });
    const status = await api.call('POST', '/api/v1/workflows/abc/status');
    expect(status.status).toBe(405);
    expect(status.headers.get('allow')).toBe('GET, HEAD');
  });

  it('500s keep internal messages out of the body', async () => {
    // A definition that is not JSON makes the record unreadable: an internal error, not the caller's fault.
    await h.connection.hset(h.ctx.keys.meta('broken'), 'status', 'running');
    await h.connection.set(h.ctx.keys.def('broken'), '{not json');
    const answer = await api.call('GET', '/api/v1/workflows/broken');
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      error: { code: 'INTERNAL', message: 'internal error; see the server log', details: [] },
    });
    const logged = await api.waitForLog((l) => l.message === 'request failed', 'the 500 log line');
    expect(logged).toMatchObject({ level: 'error', method: 'GET', path: '/api/v1/workflows/broken', code: 'INTERNAL' });
  });
});
