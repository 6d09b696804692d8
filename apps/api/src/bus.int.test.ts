import { createHash } from 'node:crypto';
import { ChannelRecorder, type Harness, probe, startApi, startHarness, type TestApi, waitForLogs, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let a: TestApi;
let b: TestApi;
let responses: ChannelRecorder;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  // Two replicas on one Redis: both are subscribed to workflow-requests once start() resolves.
  [a, b] = await Promise.all([startApi(h), startApi(h)]);
  responses = await ChannelRecorder.start(h, 'workflow-responses');
});
afterAll(async () => {
  await Promise.all([a?.service.close(), b?.service.close()]);
  await responses?.stop();
  await h?.stop();
});

const publish = async (message: unknown) => {
  const raw = typeof message === 'string' ? message : JSON.stringify(message);
  expect(await h.connection.publish('workflow-requests', raw)).toBe(2); // both replicas heard it
};
const about = (correlation: string) => responses.messages.filter((m) => m.correlation_id === correlation);
const line = (message: string, more: (l: Record<string, unknown>) => boolean) => (l: Record<string, unknown>) =>
  l.message === message && more(l);
const SUBMITTED = 'workflow submitted';
const EXISTING = 'bus request for an existing run';
const REJECTED = 'bus message rejected';

describe('workflow-requests', () => {
  it('starts exactly one run for one message heard by two replicas, with one accepted and one final message', async () => {
    await publish({ correlation_id: 'bus-1', workflow: wf([probe('via_bus')]) });
    const final = await responses.waitFor((m) => m.correlation_id === 'bus-1' && m.type === 'completed', 'completed');
    // Both replicas are done with the message: one created the run, the other found it.
    const [created] = await waitForLogs(
      [a, b],
      line(SUBMITTED, (l) => l.correlation_id === 'bus-1'),
      1,
      'created',
    );
    await waitForLogs(
      [a, b],
      line(EXISTING, (l) => l.correlation_id === 'bus-1'),
      1,
      'found existing',
    );
    expect(about('bus-1')).toEqual([
      { type: 'accepted', execution_id: created?.execution_id, correlation_id: 'bus-1', status: 'running' },
      {
        type: 'completed',
        execution_id: created?.execution_id,
        correlation_id: 'bus-1',
        status: 'completed',
        outputs: { via_bus: 1 },
        // The run's result: without a workflow output, its final tasks' outputs.
        result: { via_bus: 1 },
      },
    ]);
    expect(final.execution_id).toBe(created?.execution_id);
    expect(h.calls.filter((c) => c.task === 'via_bus')).toHaveLength(1);
    const listed = await a.call('GET', '/api/v1/workflows?limit=200');
    expect(listed.body.items.filter((r: { correlation_id?: string }) => r.correlation_id === 'bus-1')).toHaveLength(1);
  });

  it('takes the reference example message (a catalog template) and answers on workflow-responses', async () => {
    await publish({
      correlation_id: 'test-workflow',
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 100 },
    });
    const accepted = await responses.waitFor((m) => m.correlation_id === 'test-workflow', 'accepted');
    expect(accepted).toEqual({
      type: 'accepted',
      execution_id: expect.any(String),
      correlation_id: 'test-workflow',
      status: 'running',
    });
    const record = await h.waitForEnd(accepted.execution_id);
    expect(record.template?.id).toBe('data-analysis-basic');
    const final = await responses.waitFor(
      (m) => m.correlation_id === 'test-workflow' && m.type !== 'accepted',
      'the final message',
    );
    expect(final).toMatchObject({ type: record.status, execution_id: record.execution_id, status: record.status });
  });

  it('starts nothing and answers nothing new for a repeated message with a used correlation id', async () => {
    const message = { correlation_id: 'bus-repeat', workflow: wf([probe('repeat_me')]) };
    await publish(message);
    const accepted = await responses.waitFor((m) => m.correlation_id === 'bus-repeat', 'accepted');
    await h.waitForEnd(accepted.execution_id);
    const existing = line(EXISTING, (l) => l.correlation_id === 'bus-repeat');
    await waitForLogs([a, b], existing, 1, 'the first message handled by both');
    await publish(message);
    const lines = await waitForLogs([a, b], existing, 3, 'the repeat handled by both');
    expect(new Set(lines.map((l) => l.execution_id))).toEqual(new Set([accepted.execution_id]));
    expect(about('bus-repeat').map((m) => m.type)).toEqual(['accepted', 'completed']);
    expect(h.calls.filter((c) => c.task === 'repeat_me')).toHaveLength(1);
  });
});

describe('malformed messages', () => {
  /** Waits until both replicas rejected the message; exactly one of them may answer. */
  const bothRejected = async (match: (l: Record<string, unknown>) => boolean) => {
    const lines = await waitForLogs([a, b], line(REJECTED, match), 2, 'both replicas rejecting');
    expect(lines.map((l) => l.answered).sort()).toEqual([false, true]);
    expect(lines.every((l) => l.level === 'warn')).toBe(true);
  };

  it('answers a message without correlation_id once, with the pointer', async () => {
    await publish({ workflow: wf([probe('no_correlation')]) });
    await bothRejected((l) => JSON.stringify(l.details).includes('/correlation_id'));
    await responses.waitFor((m) => m.type === 'error' && m.correlation_id === null, 'the error answer');
    expect(responses.messages.filter((m) => m.type === 'error' && m.correlation_id === null)).toEqual([
      {
        type: 'error',
        correlation_id: null,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'message is invalid',
          details: [{ pointer: '/correlation_id', message: 'is required' }],
        },
      },
    ]);
    expect(h.calls.filter((c) => c.task === 'no_correlation')).toHaveLength(0);
  });

  it('answers text that is not JSON once, claiming the answer with a key per message digest', async () => {
    const raw = '{"correlation_id": "oops"';
    await publish(raw);
    await bothRejected((l) => l.code === 'BAD_REQUEST');
    const answer = await responses.waitFor((m) => m.type === 'error' && m.error.code === 'BAD_REQUEST', 'error');
    expect(answer.correlation_id).toBeNull();
    expect(answer.error.message).toMatch(/^message is not valid JSON: /);
    expect(answer.error.details).toEqual([]);
    expect(responses.messages.filter((m) => m.type === 'error' && m.error.code === 'BAD_REQUEST')).toHaveLength(1);
    const ttl = await h.connection.pttl(h.ctx.keys.busError(createHash('sha256').update(raw).digest('hex')));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it.each([
    [
      'an unknown template',
      { correlation_id: 'bad-template', workflow_template: 'nope' },
      {
        code: 'VALIDATION_FAILED',
        message: "unknown workflow template 'nope'",
        details: [
          {
            pointer: '/workflow_template',
            message: "no template 'nope' in the catalog; available: ai-content-pipeline, data-analysis-basic",
          },
        ],
      },
    ],
    [
      'bad variables',
      { correlation_id: 'bad-vars', workflow_template: 'data-analysis-basic', variables: { query_limit: 'x' } },
      {
        code: 'VALIDATION_FAILED',
        message: "variables do not fit template 'data-analysis-basic'",
        details: [{ pointer: '/variables/query_limit', message: `variable 'query_limit' must be an integer; got "x"` }],
      },
    ],
    [
      'a schema error',
      { correlation_id: 'bad-shape', workflow_template: 'data-analysis-basic', extra: 1 },
      {
        code: 'VALIDATION_FAILED',
        message: 'message is invalid',
        details: [{ pointer: '/extra', message: "unknown field 'extra'" }],
      },
    ],
  ])('answers %s once, with the correlation id', async (_what, message, error) => {
    const correlation = message.correlation_id;
    await publish(message);
    await bothRejected((l) => l.correlation_id === correlation);
    await responses.waitFor((m) => m.correlation_id === correlation, 'the error answer');
    expect(about(correlation)).toEqual([{ type: 'error', correlation_id: correlation, error }]);
  });

  it('keeps both replicas serving, and counts rejections in /metrics', async () => {
    expect((await a.call('GET', '/health')).status).toBe(200);
    expect((await b.call('GET', '/health')).status).toBe(200);
    const count = async (api: TestApi, outcome: string) => {
      const text = (await api.call('GET', '/metrics')).text;
      return Number(
        new RegExp(`orchestrator_bus_messages_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
      );
    };
    // Five malformed messages: each answered by exactly one replica and skipped by the other.
    expect((await count(a, 'rejected')) + (await count(b, 'rejected'))).toBe(5);
    expect((await count(a, 'rejected_elsewhere')) + (await count(b, 'rejected_elsewhere'))).toBe(5);
  });
});
