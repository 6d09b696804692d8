import { createRedisConnection } from '@orch/redis';
import { ChannelRecorder, type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

/** Submit and wait (`?wait=`, the bus's `wait`), against a real API, worker and Redis. */

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  api = await startApi(h, { ORCHESTRATOR_MAX_WAIT: '2s' });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const chain = wf([probe('a'), probe('b', ['a'])]);
const approval = wf([{ id: 'sign_off', type: 'approval', parameters: { message: 'ok?' } }]);
const submit = (query: string, body: unknown) => api.call('POST', `/api/v1/workflows${query}`, { body });

describe('POST /api/v1/workflows?wait=', () => {
  it('answers 200 with the final record when the run ends within the wait', async () => {
    const answer = await submit('?wait=10s', { workflow: chain, correlation_id: 'wait-1' });
    expect(answer.status).toBe(200);
    const id = answer.body.execution_id as string;
    expect(answer.headers.get('location')).toBe(`/api/v1/workflows/${id}/status`);
    expect(answer.body).toMatchObject({
      execution_id: id,
      status: 'completed',
      created: true,
      correlation_id: 'wait-1',
    });
    expect(answer.body.record).toMatchObject({ execution_id: id, status: 'completed' });
    expect(answer.body.record.tasks.map((t: { id: string; output: unknown }) => [t.id, t.output])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    // The same record as GET answers.
    expect((await api.call('GET', `/api/v1/workflows/${id}`)).body).toEqual(answer.body.record);
  });

  it('answers the usual 202 when the run is still going when the wait runs out, and leaves no waiter', async () => {
    const answer = await submit('?wait=200ms', { workflow: approval });
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('running');
    expect(answer.body.record).toBeUndefined();
    expect(api.service.deps.waiters.size).toBe(0);
    await h.engine.cancel(answer.body.execution_id);
  });

  it('cuts a wait longer than ORCHESTRATOR_MAX_WAIT to it', async () => {
    const started = Date.now();
    const answer = await submit('?wait=1h', { workflow: approval });
    expect(answer.status).toBe(202);
    // 2 s cap (with room for a loaded machine), not an hour.
    expect(Date.now() - started).toBeLessThan(20_000);
    await h.engine.cancel(answer.body.execution_id);
  });

  it('is not cut by ORCHESTRATOR_REQUEST_TIMEOUT, which covers receiving the request only', async () => {
    const strict = await startApi(h, { ORCHESTRATOR_REQUEST_TIMEOUT: '1s', ORCHESTRATOR_HEADERS_TIMEOUT: '1s' });
    try {
      const slow = wf([probe('a', [], { sleep_ms: 2500 })]);
      const answer = await strict.call('POST', '/api/v1/workflows?wait=20s', { body: { workflow: slow } });
      expect(answer.status).toBe(200);
      expect(answer.body.record.status).toBe('completed');
    } finally {
      await strict.service.close();
    }
  });

  it('reports a failed run as the final record too', async () => {
    const failing = wf([probe('a', [], { fail_times: 9, permanent: true })]);
    const answer = await submit('?wait=10', { workflow: failing });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('failed');
    expect(answer.body.record.tasks[0]).toMatchObject({ id: 'a', status: 'failed' });
  });

  it('waits for the existing run of a used correlation id, and answers at once when it already ended', async () => {
    const first = await submit('', { workflow: chain, correlation_id: 'wait-dup' });
    expect(first.status).toBe(202);
    await h.waitForEnd(first.body.execution_id);
    const again = await submit('?wait=5s', { workflow: chain, correlation_id: 'wait-dup' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ execution_id: first.body.execution_id, created: false, status: 'completed' });
    expect(again.body.record.status).toBe('completed');
  });

  it('refuses a wait that is not a duration, pointing at it', async () => {
    const answer = await submit('?wait=soon', { workflow: chain });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      { pointer: '/wait', message: 'must be a duration like 500ms, 30s or 2m, or seconds as a number' },
    ]);
    const unknown = await submit('?wiat=1s', { workflow: chain });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].pointer).toBe('/wiat');
  });
});

describe('the bus with `wait`', () => {
  it('sends only the final message for a run that ends within the wait, and `accepted` for one that does not', async () => {
    const responses = await ChannelRecorder.start(h, 'workflow-responses');
    const publisher = createRedisConnection({ host: h.server.host, port: h.server.port }, 'worker');
    try {
      await publisher.publish(
        'workflow-requests',
        JSON.stringify({ correlation_id: 'bus-wait-1', workflow: chain, wait: '10s' }),
      );
      const final = await responses.waitFor((m) => m.correlation_id === 'bus-wait-1', 'the final message');
      expect(final).toMatchObject({ type: 'completed', status: 'completed', outputs: { a: 1, b: 2 } });
      await publisher.publish(
        'workflow-requests',
        JSON.stringify({ correlation_id: 'bus-wait-2', workflow: approval, wait: 0.2 }),
      );
      const accepted = await responses.waitFor((m) => m.correlation_id === 'bus-wait-2', 'accepted');
      expect(accepted).toMatchObject({ type: 'accepted', status: 'running' });
      await h.engine.cancel(accepted.execution_id);
      await responses.waitFor((m) => m.correlation_id === 'bus-wait-2' && m.type === 'cancelled', 'the end');
      // Only one message for the first run: the `accepted` was never sent.
      expect(responses.messages.filter((m) => m.correlation_id === 'bus-wait-1').map((m) => m.type)).toEqual([
        'completed',
      ]);
    } finally {
      await publisher.quit();
      await responses.stop();
    }
  });
});
