import { type Harness, startApi, startHarness, type TestApi } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 5 });
  api = await startApi(h);
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const inline = { id: 'tick', tasks: [{ id: 't', type: 'transform', parameters: { output: 1 } }] };

describe('/api/v1/schedules', () => {
  it('creates, lists, shows, pauses, resumes and deletes a schedule', async () => {
    const created = await api.call('POST', '/api/v1/schedules', {
      body: { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Paris', workflow: inline },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'nightly',
      cron: '0 3 * * *',
      overlap: 'skip',
      paused: false,
      source: 'api',
      fired: 0,
    });
    expect(Date.parse(created.body.next_run_at)).toBeGreaterThan(Date.now());
    const list = await api.call('GET', '/api/v1/schedules');
    expect(list.body.schedules.map((s: { id: string }) => s.id)).toEqual(['nightly']);
    expect((await api.call('GET', '/api/v1/schedules/nightly')).body).toMatchObject({ id: 'nightly', firings: [] });
    const paused = await api.call('POST', '/api/v1/schedules/nightly/pause');
    expect(paused.body).toMatchObject({ paused: true });
    expect(paused.body.next_run_at).toBeUndefined();
    expect((await api.call('POST', '/api/v1/schedules/nightly/resume')).body.paused).toBe(false);
    expect((await api.call('DELETE', '/api/v1/schedules/nightly')).status).toBe(204);
    expect((await api.call('GET', '/api/v1/schedules/nightly')).status).toBe(404);
  });

  it('validates the body, the cron pattern and the workflow before saving', async () => {
    const bad = await api.call('POST', '/api/v1/schedules', { body: { id: 'x', cron: '* * * * *' } });
    expect(bad.status).toBe(400);
    const cron = await api.call('POST', '/api/v1/schedules', { body: { id: 'x', cron: 'often', workflow: inline } });
    expect(cron.status).toBe(400);
    expect(cron.body.error.details[0].pointer).toBe('/cron');
    const template = await api.call('POST', '/api/v1/schedules', {
      body: { id: 'x', cron: '* * * * *', workflow_template: 'nope' },
    });
    expect(template.status).toBe(400);
    expect(template.body.error.details[0].pointer).toBe('/workflow_template');
    expect((await api.call('GET', '/api/v1/schedules')).body.schedules).toEqual([]);
  });
});
