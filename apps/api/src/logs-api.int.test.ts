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

const submit = async (workflow: unknown): Promise<string> =>
  (await api.call('POST', '/api/v1/workflows', { body: { workflow } })).body.execution_id;
const logsUrl = (id: string, task: string, query = '') =>
  `${api.url}/api/v1/workflows/${id}/tasks/${task}/logs${query}`;

describe('GET /api/v1/workflows/{id}/tasks/{task}/logs', () => {
  it('follows a running attempt live and ends with how it ended', async () => {
    const id = await submit(wf([probe('slow', [], { log: ['one', 'two'], sleep_ms: 800 })]));
    await h.started('slow');
    const sse = await readSse(logsUrl(id, 'slow', '?follow=true'));
    expect(sse.status).toBe(200);
    expect(sse.contentType).toBe('text/event-stream; charset=utf-8');
    expect(sse.events.map((e) => [e.event, e.data.message ?? e.data])).toEqual([
      ['line', 'one'],
      ['line', 'two'],
      ['end', { attempt: 1, ending: 'completed' }],
    ]);
    expect(sse.events[0]?.id).toBe(sse.events[0]?.data.id);
    // It waited for the attempt: a heartbeat went out while the task slept.
    expect(sse.comments).toContain('heartbeat');
    expect(api.service.deps.streams.size).toBe(0);
  });

  it('answers each attempt as JSON, resumes after Last-Event-ID, and 204 once nothing is left', async () => {
    const id = await submit(
      wf([
        probe(
          'flaky',
          [],
          { log: ['trying', 'still trying'], fail_times: 1 },
          {
            retry_policy: { max_retries: 1, initial_delay: '10ms' },
          },
        ),
      ]),
    );
    await h.waitForEnd(id);
    const first = await api.call('GET', `/api/v1/workflows/${id}/tasks/flaky/logs?attempt=1`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      execution_id: id,
      task: 'flaky',
      attempt: 1,
      attempts: [1, 2],
      ended: true,
      ending: 'retrying',
      capped: false,
    });
    expect(first.body.lines.map((l: { message: string }) => l.message)).toEqual(['trying', 'still trying']);
    const latest = await api.call('GET', `/api/v1/workflows/${id}/tasks/flaky/logs`);
    expect(latest.body).toMatchObject({ attempt: 2, ending: 'completed' });
    const [one, two] = first.body.lines as { id: string }[];
    const resumed = await readSse(logsUrl(id, 'flaky', '?follow=true&attempt=1'), {
      'last-event-id': one?.id as string,
    });
    expect(resumed.events.map((e) => e.event)).toEqual(['line', 'end']);
    expect(resumed.events[0]?.data.message).toBe('still trying');
    const done = await readSse(logsUrl(id, 'flaky', '?follow=true&attempt=1'), { 'last-event-id': two?.id as string });
    expect(done.status).toBe(204);
  });

  it('names what is wrong: a bad query (400 at its pointer), an unknown task (404)', async () => {
    const id = await submit(wf([probe('x')]));
    await h.waitForEnd(id);
    const bad = await api.call('GET', `/api/v1/workflows/${id}/tasks/x/logs?limit=0&follow=yes`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { pointer: '/limit', message: 'must be an integer from 1 to 5000' },
      { pointer: '/follow', message: 'must be one of: "true", "false"' },
    ]);
    const unknown = await api.call('GET', `/api/v1/workflows/${id}/tasks/nope/logs`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("task 'nope' was not found");
  });
});
