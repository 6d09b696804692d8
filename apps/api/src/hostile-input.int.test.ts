import { connect } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { withDeadline } from '@orch/testing';
import { ChannelRecorder, type Harness, readSse, startApi, startHarness, type TestApi, wf } from './testing';

/** Inputs written to break the API: each is answered 4xx with a message that says what to change, never 500. */

jest.setTimeout(60_000);

const RESERVED = 'must not be __proto__, constructor or prototype: JavaScript objects reserve those names';

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker();
  api = await startApi(h, {
    ORCHESTRATOR_JSON_MAX_DEPTH: '32',
    ORCHESTRATOR_HEADERS_TIMEOUT: '1s',
    ORCHESTRATOR_REQUEST_TIMEOUT: '1s',
  });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const submitRaw = (raw: string, headers: Record<string, string> = {}) =>
  api.call('POST', '/api/v1/workflows', { raw, headers: { 'content-type': 'application/json', ...headers } });
const transform = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  parameters: { output: 1 },
  ...more,
});
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('reserved names as ids', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses the task id %s at submit, with a pointer', async (id) => {
    const answer = await api.call('POST', '/api/v1/workflows', { body: { workflow: wf([transform(id)]) } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([{ pointer: '/workflow/tasks/0/id', message: RESERVED }]);
  });

  it('refuses them as variable names in the body (a parsed __proto__ key), on submit, validate and schedules', async () => {
    const body = `{"workflow": {"id": "w", "tasks": [{"id": "a", "type": "transform", "parameters": {"output": 1}}]},
      "variables": {"__proto__": {"polluted": true}}}`;
    for (const path of ['/api/v1/workflows', '/api/v1/validate']) {
      const answer = await api.call('POST', path, { raw: body, headers: { 'content-type': 'application/json' } });
      expect([path, answer.status, answer.body.error.details]).toEqual([
        path,
        400,
        [{ pointer: '/variables/__proto__', message: RESERVED }],
      ]);
    }
    const schedule = await api.call('POST', '/api/v1/schedules', {
      body: { id: 'constructor', cron: '* * * * *', workflow_template: 'data-analysis-basic' },
    });
    expect(schedule.status).toBe(400);
    expect(schedule.body.error.details).toContainEqual({ pointer: '/id', message: RESERVED });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers 404, not 500, for them as path ids on every route', async () => {
    const done = await h.run(wf([transform('only')]));
    const paths: [string, string][] = [];
    for (const id of ['__proto__', 'constructor', 'prototype']) {
      paths.push(
        ['GET', `/api/v1/workflows/${id}`],
        ['GET', `/api/v1/workflows/${id}/status`],
        ['GET', `/api/v1/workflows/${id}/events`],
        ['POST', `/api/v1/workflows/${id}/cancel`],
        ['POST', `/api/v1/workflows/${id}/retry`],
        ['POST', `/api/v1/workflows/${id}/pause`],
        ['POST', `/api/v1/workflows/${id}/resume`],
        ['POST', `/api/v1/workflows/${done.execution_id}/tasks/${id}/approve`],
        ['POST', `/api/v1/workflows/${done.execution_id}/tasks/${id}/reject`],
        ['GET', `/api/v1/templates/${id}`],
        ['GET', `/api/v1/templates/${id}/versions`],
        ['GET', `/api/v1/schedules/${id}`],
        ['DELETE', `/api/v1/schedules/${id}`],
        ['POST', `/api/v1/schedules/${id}/pause`],
        ['POST', `/api/v1/schedules/${id}/resume`],
      );
    }
    for (const [method, path] of paths) {
      const answer = await api.call(method, path);
      expect([method, path, answer.status]).toEqual([method, path, 404]);
      expect(answer.body.error.message).toMatch(/^(execution|task|template|schedule) '.+' was not found$/);
    }
  });

  it('refuses them in a bus message, answering on workflow-responses', async () => {
    const responses = await ChannelRecorder.start(h, 'workflow-responses');
    try {
      await h.connection.publish(
        'workflow-requests',
        JSON.stringify({ correlation_id: 'bus-proto', workflow: wf([transform('__proto__')]) }),
      );
      const answer = await responses.waitFor((m) => m.correlation_id === 'bus-proto', 'the error answer');
      expect(answer).toMatchObject({ type: 'error', error: { code: 'VALIDATION_FAILED' } });
      expect(answer.error.details).toEqual([{ pointer: '/workflow/tasks/0/id', message: RESERVED }]);
    } finally {
      await responses.stop();
    }
  });
});

describe('bodies that do not parse as they claim', () => {
  it.each([
    ['gzip', 'Z_DATA_ERROR'],
    ['deflate', 'Z_DATA_ERROR'],
    ['br', 'ERR__ERROR_FORMAT_PADDING_1'],
  ])('400 for a %s body that does not inflate', async (encoding, code) => {
    const answer = await submitRaw('certainly not compressed', { 'content-encoding': encoding });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({
      code: 'BAD_REQUEST',
      message:
        `request body does not decompress as Content-Encoding ${encoding} (${code}): it is not data compressed ` +
        'that way; send it compressed as the header says, or without Content-Encoding',
      details: [],
    });
  });

  it('400 for a gzip body cut short, and still takes a good one', async () => {
    const body = gzipSync(JSON.stringify({ workflow: wf([transform('a')]) }));
    const cut = await fetch(`${api.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: body.subarray(0, body.length - 8),
    });
    expect(cut.status).toBe(400);
    expect(((await cut.json()) as { error: { message: string } }).error.message).toBe(
      'request body does not decompress as Content-Encoding gzip (Z_BUF_ERROR): it ends before the compressed data ' +
        'does; send it compressed as the header says, or without Content-Encoding',
    );
    for (const [encoding, data] of [
      ['gzip', body],
      ['br', brotliCompressSync(JSON.stringify({ workflow: wf([transform('a')]) }))],
    ] as const) {
      const good = await fetch(`${api.url}/api/v1/workflows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: data,
      });
      expect([encoding, good.status]).toEqual([encoding, 202]);
    }
  });

  it('400 naming the limit for JSON nested deeper than ORCHESTRATOR_JSON_MAX_DEPTH, before parsing', async () => {
    const expected = {
      code: 'BAD_REQUEST',
      message: 'request body nests arrays and objects deeper than 32 levels (ORCHESTRATOR_JSON_MAX_DEPTH)',
      details: [{ pointer: '', message: 'nests deeper than 32 levels' }],
    };
    const top = await submitRaw(`{"workflow": ${nested(3000)}}`);
    expect([top.status, top.body.error]).toEqual([400, expected]);
    // Deep inside a task's parameters, where validation used to overflow the stack and answer 500.
    const inside = await submitRaw(
      `{"workflow": {"id": "w", "tasks": [{"id": "a", "type": "transform", "parameters": {"output": ${nested(3000)}}}]}}`,
    );
    expect([inside.status, inside.body.error]).toEqual([400, expected]);
    // 32 levels in all pass (brackets inside strings do not count); one more does not.
    const body = (depth: number) =>
      `{"workflow": {"id": "w", "tasks": [{"id": "a", "type": "transform", "parameters": {"output": {"s": "[[[[[[", "deep": ${nested(depth)}}}}]}}`;
    expect((await submitRaw(body(26))).status).toBe(202);
    const over = await submitRaw(body(27));
    expect([over.status, over.body.error]).toEqual([400, expected]);
  });

  it('answers a deep bus message with an error on workflow-responses', async () => {
    const responses = await ChannelRecorder.start(h, 'workflow-responses');
    try {
      await h.connection.publish('workflow-requests', `{"correlation_id": "bus-deep", "workflow": ${nested(5000)}}`);
      const answer = await responses.waitFor((m) => m.correlation_id === 'bus-deep', 'the error answer');
      expect(answer).toMatchObject({
        type: 'error',
        error: {
          code: 'BAD_REQUEST',
          message: 'message nests arrays and objects deeper than 32 levels (ORCHESTRATOR_JSON_MAX_DEPTH)',
        },
      });
    } finally {
      await responses.stop();
    }
  });

  it('400 with a pointer for depends_on given as a string', async () => {
    const answer = await api.call('POST', '/api/v1/workflows', {
      body: { workflow: wf([transform('a'), transform('b', { depends_on: 'a' })]) },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      { pointer: '/workflow/tasks/1/depends_on', message: 'must be a list of distinct task ids, such as ["fetch"]' },
    ]);
  });
});

describe('path ids and headers', () => {
  it.each([
    '/api/v1/workflows/%ED%A0%80',
    '/api/v1/workflows/%ED%A0%80/status',
    '/api/v1/workflows/%E2%82/events',
    '/api/v1/templates/%ED%A0%80',
    '/api/v1/schedules/%FF',
  ])('400 for a path id that is not percent-encoded UTF-8: %s', async (path) => {
    const answer = await api.call('GET', path);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('BAD_REQUEST');
    expect(answer.body.error.message).toMatch(
      /^Failed to decode param '.+': percent-escapes in the path must encode UTF-8$/,
    );
  });

  it('400 for a Last-Event-ID beyond 64 bits; the largest valid id is taken', async () => {
    const { execution_id: id } = await h.run(wf([transform('a')]));
    for (const header of [
      '99999999999999999999-0',
      '0-18446744073709551616',
      '18446744073709551615-18446744073709551615',
    ]) {
      const answer = await api.call('GET', `/api/v1/workflows/${id}/events`, { headers: { 'last-event-id': header } });
      expect([header, answer.status, answer.body.error?.details]).toEqual([
        header,
        400,
        [
          {
            pointer: '/headers/last-event-id',
            message: 'must be an event id sent by this stream, such as 1700000000000-0',
          },
        ],
      ]);
    }
    const after = await api.call('GET', `/api/v1/workflows/${id}/events`, {
      headers: { 'last-event-id': '18446744073709551615-0' },
    });
    expect(after.status).toBe(204); // the run ended and nothing comes after that id
  });
});

/** Sends raw bytes on one connection and resolves with everything the server sent until it closed. */
function rawExchange(text: string): Promise<{ response: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(api.service.server.address() as { port: number });
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk.toString();
    });
    socket.on('close', () => resolve({ response, ms: Date.now() - started }));
    socket.on('error', reject);
    socket.write(text);
  });
}

describe('HTTP timeouts', () => {
  const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

  it('408 with a JSON error when the body is shorter than its Content-Length', async () => {
    const { response, ms } = await withDeadline(
      rawExchange(
        'POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"work',
      ),
      10_000,
      'the server to give up on the request',
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(bodyOf(response).error).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(bodyOf(response).error.message).toContain('(ORCHESTRATOR_REQUEST_TIMEOUT)');
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5_000);
  });

  it('408 for a request that times out on a keep-alive connection after an answered one', async () => {
    const { response } = await withDeadline(
      rawExchange(
        // The second request's headers never end: it has no response object of its own yet.
        'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ',
      ),
      10_000,
      'both answers',
    );
    expect(response.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 408']);
  });

  it('408 when the headers never end', async () => {
    const { response } = await withDeadline(
      rawExchange('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      10_000,
      'the server to give up on the headers',
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(response).error.message).toContain('(ORCHESTRATOR_HEADERS_TIMEOUT)');
  });

  it('400 with a JSON error for a request Node cannot parse', async () => {
    const { response } = await rawExchange('GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(response).error).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('does not cut a response that lasts longer than the request timeout (an event stream)', async () => {
    const id = await h.submit(wf([{ id: 'wait', type: 'delay', parameters: { duration: '2500ms' } }]));
    const started = Date.now();
    const stream = await readSse(`${api.url}/api/v1/workflows/${id}/events`);
    expect(Date.now() - started).toBeGreaterThan(2_000);
    expect(stream.events.at(-1)?.event).toBe('workflow.completed');
  });
});

describe('workflow contents refused at submit, not at run time', () => {
  it.each([
    [
      { id: 's', type: 'workflow', parameters: { template: '../../etc/passwd' } },
      '/workflow/tasks/0/parameters/template',
    ],
    [
      {
        id: 'e',
        type: 'exec',
        parameters: { image: 'alpine', command: ['cat'], files: [{ name: '../../x', content: '' }] },
      },
      '/workflow/tasks/0/parameters/files/0/name',
    ],
    [
      {
        id: 'e',
        type: 'exec',
        parameters: { image: 'alpine', command: ['cat'], files: [{ name: '/etc/x', content: '' }] },
      },
      '/workflow/tasks/0/parameters/files/0/name',
    ],
    [
      { id: 'a', type: 'ai', parameters: { prompt: 'hi', system_prompt: 'x' } },
      '/workflow/tasks/0/parameters/system_prompt',
    ],
  ])('refuses %j', async (task, pointer) => {
    const answer = await api.call('POST', '/api/v1/workflows', { body: { workflow: wf([task]) } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((d: { pointer: string }) => d.pointer)).toEqual([pointer]);
  });
});
