import { type Harness, probe, readSse, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  api = await startApi(h, {}, { heartbeatMs: 100 });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const submit = (body: unknown) => api.call('POST', '/api/v1/workflows', { body });

describe('GET /api/v1/workflows/{id}/events', () => {
  it('streams every event of a run in order, with heartbeats, and ends after the final event', async () => {
    const created = await submit({
      workflow: wf([probe('e1', [], { sleep_ms: 400 }), probe('e2', ['e1']), probe('e3', ['e2'])]),
    });
    const id = created.body.execution_id;
    const sse = await readSse(`${api.url}/api/v1/workflows/${id}/events`);
    expect(sse.status).toBe(200);
    expect(sse.contentType).toBe('text/event-stream; charset=utf-8');
    expect(sse.retry).toBe(3000);
    expect(sse.comments).toContain('heartbeat');
    const stored = await h.engine.events(id);
    expect(sse.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(sse.events.map((e) => e.data)).toEqual(stored);
    expect(sse.events.map((e) => e.event)).toEqual(stored.map((e) => e.type));
    expect(sse.events.at(-1)?.event).toBe('workflow.completed');
    expect(sse.events.filter((e) => e.event === 'task.completed').map((e) => e.data.task)).toEqual(['e1', 'e2', 'e3']);
    expect(api.service.deps.streams.size).toBe(0);
  });

  it('resumes after Last-Event-ID, answers 204 once the client has the final event, 400 for a bad id', async () => {
    const created = await submit({ workflow: wf([probe('r1'), probe('r2', ['r1'])]) });
    const id = created.body.execution_id;
    await h.waitForEnd(id);
    const all = await h.engine.events(id);
    const url = `${api.url}/api/v1/workflows/${id}/events`;
    const resumed = await readSse(url, { 'last-event-id': (all[1] as { id: string }).id });
    expect(resumed.events.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
    const finished = await readSse(url, { 'last-event-id': (all.at(-1) as { id: string }).id });
    expect(finished.status).toBe(204);
    expect(finished.events).toEqual([]);
    const bad = await api.call('GET', `/api/v1/workflows/${id}/events`, { headers: { 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'invalid Last-Event-ID header',
      details: [
        {
          pointer: '/headers/last-event-id',
          message: 'must be an event id sent by this stream, such as 1700000000000-0',
        },
      ],
    });
  });

  it('stops following when the client goes away', async () => {
    const created = await submit({ workflow: wf([probe('away', [], { sleep_ms: 30_000 })]) });
    const id = created.body.execution_id;
    const controller = new AbortController();
    const response = await fetch(`${api.url}/api/v1/workflows/${id}/events`, { signal: controller.signal });
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    // A heartbeat means the replay is done and the live XREAD connection is up.
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    expect(api.service.deps.streams.size).toBe(1);
    const closed = api.waitForLog(
      (l) => l.message === 'event stream closed' && l.execution_id === id && l.reason === 'client left',
      'the stream to notice the client left',
    );
    controller.abort();
    await closed;
    expect(api.service.deps.streams.size).toBe(0);
    await api.call('POST', `/api/v1/workflows/${id}/cancel`);
    await h.waitForEnd(id);
  });
});
