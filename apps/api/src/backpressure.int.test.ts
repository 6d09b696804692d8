import { type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

/**
 * Backpressure against a real API and Redis: with no worker running, task jobs pile up in the tasks queue; above
 * the high-water mark a submit is held, then refused with 429 and Retry-After; a worker draining the backlog lets a
 * held submit through.
 */

let h: Harness;
let quick: TestApi;
let patient: TestApi;
beforeAll(async () => {
  h = await startHarness();
  quick = await startApi(h, { ORCHESTRATOR_BACKLOG_HIGH_WATER: '3', ORCHESTRATOR_BACKLOG_HOLD: '300ms' });
  patient = await startApi(h, { ORCHESTRATOR_BACKLOG_HIGH_WATER: '3', ORCHESTRATOR_BACKLOG_HOLD: '30s' });
});
afterAll(async () => {
  await Promise.all([quick?.service.close(), patient?.service.close()]);
  await h?.stop();
});

const one = wf([probe('a')]);
const submit = (api: TestApi, query = '') => api.call('POST', `/api/v1/workflows${query}`, { body: { workflow: one } });

it('holds, then refuses with 429 and Retry-After while the backlog is above the mark; lets held submits in once it drains', async () => {
  // No worker: each run leaves its root job waiting.
  for (let i = 0; i < 3; i++) expect((await submit(quick)).status).toBe(202);
  expect(await h.engine.backlog()).toEqual({ waitingJobs: 3, pendingRuns: 0 });

  const refused = await submit(quick);
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('TOO_MANY_REQUESTS');
  expect(refused.body.error.message).toMatch(
    /3 tasks and runs wait to start, above ORCHESTRATOR_BACKLOG_HIGH_WATER \(3\)/,
  );
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect((await h.engine.backlog()).waitingJobs).toBe(3); // nothing was written for it
  const metrics = await quick.call('GET', '/metrics');
  expect(metrics.text).toMatch(/orchestrator_submits_backpressure_total\{outcome="held"\} 1/);
  expect(metrics.text).toMatch(/orchestrator_submits_backpressure_total\{outcome="refused"\} 1/);

  // A submit with a long hold waits for room; a worker drains the queue, and it is accepted.
  const held = submit(patient, '?wait=20s');
  await patient.waitForLog((l) => String(l.message).startsWith('submit held'), 'the submit to be held');
  await h.startWorker();
  const answer = await held;
  expect(answer.status).toBe(200);
  expect(answer.body.record.status).toBe('completed');
});

it('is off with ORCHESTRATOR_BACKLOG_HIGH_WATER=0', async () => {
  const open = await startApi(h, { ORCHESTRATOR_BACKLOG_HIGH_WATER: '0' });
  try {
    expect(open.service.deps.backpressure.enabled).toBe(false);
  } finally {
    await open.service.close();
  }
});
