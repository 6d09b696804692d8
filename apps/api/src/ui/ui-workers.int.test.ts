import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-workers-key';

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ name: 'stock-a', concurrency: 8 });
  await h.startWorker({ name: 'special-pool', queues: ['special', 'default'], concurrency: 2 });
  // A worker that crashed a while ago: its last heartbeat is 20 s old, 4 beats of 5 s missed.
  await h.ctx.workers.beat({
    name: 'crashed-1',
    host: 'gpu-box',
    pid: 4242,
    queues: ['gpu'],
    task_types: ['train'],
    concurrency: 1,
    active: 1,
    started_at: new Date(Date.now() - 3_600_000).toISOString(),
    heartbeat_ms: 5000,
    version: '0.1.0',
    kind: 'sdk',
    at: Date.now() - 20_000,
  });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: `ops:${KEY}:read+run` });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

describe('workers page', () => {
  it('lists live workers with their queues and load, and the crashed one as lost', async () => {
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/workers`);
    await page.locator('table.workers tr[data-name="crashed-1"]').waitFor();
    const rows = page.locator('table.workers tbody tr');
    const seen: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      seen.push([
        (await row.getAttribute('data-name')) as string,
        (await row.getAttribute('data-status')) as string,
        ((await row.locator('td.queues').textContent()) ?? '').trim(),
        (await row.locator('td.active').textContent()) as string,
      ]);
    }
    expect(seen).toEqual([
      ['special-pool', 'live', 'special default', '0 / 2'],
      ['stock-a', 'live', 'default', '0 / 8'],
      ['crashed-1', 'lost', 'gpu', '1 / 1'],
    ]);
    expect(await page.locator('header.top nav a[data-section="workers"]').getAttribute('class')).toBe('active');
    expect(await page.title()).toBe('Workers · Orchestrator');
    await browser.screenshot(page, 'workers-page');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows on the run page that no worker serves a task’s queue', async () => {
    const id = await h.submit(wf([probe('train', [], {}, { queue: 'gpu' })]));
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.locator('.run-waiting').waitFor();
    expect(await page.locator('.run-waiting').textContent()).toBe('no worker serves queue gpu');
    await browser.screenshot(page, 'run-waiting-for-queue');
    expect(errors).toEqual([]);
    await page.close();
    await api.call('POST', `/api/v1/workflows/${id}/cancel`, { headers: { authorization: `Bearer ${KEY}` } });
  });
});
