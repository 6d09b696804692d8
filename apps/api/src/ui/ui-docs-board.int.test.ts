import { type Harness, startApi, startHarness, type TestApi } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 5 });
  // No keys: Swagger UI and Bull Board are reached without a proxy adding one.
  api = await startApi(h);
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

/** Lines at the production default level (info) and above: what an operator's log receives. */
const LOUD = new Set(['info', 'warn', 'error']);

describe('Bull Board', () => {
  it('one page view writes one line to the log at the default level, the rest at debug', async () => {
    const { page, errors } = await browser.tab();
    const before = api.logs.length;
    // A queue's page, loaded until the network is idle, then one of its refreshes (Bull Board polls every 5 s).
    await page.goto(`${api.url}/admin/queues/queue/tasks`, { waitUntil: 'networkidle' });
    await page.waitForResponse((r) => r.url().includes('/admin/queues/api/queues'), { timeout: 20_000 });
    await page.waitForLoadState('networkidle');
    const lines = api.logs.slice(before);
    const loud = lines.filter((l) => LOUD.has(l.level as string));
    // Every request is still logged (at debug) with its route, so nothing is lost when debugging.
    // Before: every one of these (22 on this view: the page, 17 scripts, styles and images, 4 polls) was at info.
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.message === 'request' && l.route === '/admin/queues')).toBe(true);
    expect(loud.map((l) => [l.method, l.path, l.status])).toEqual([['GET', '/admin/queues/queue/tasks', 200]]);
    await browser.screenshot(page, 'bull-board-queues');
    // Bull Board asks Google Fonts for its typeface, which this offline machine cannot resolve; nothing else failed.
    expect(errors.filter((e) => !e.includes('ERR_NAME_NOT_RESOLVED'))).toEqual([]);
    await page.close();
  });
});

describe('Swagger UI', () => {
  it('runs the catalog template example of POST /api/v1/workflows with "Try it out"', async () => {
    const { page, errors } = await browser.tab();
    await page.goto(`${api.url}/docs#/workflows/submitWorkflow`);
    const op = page.locator('#operations-workflows-submitWorkflow');
    await op.locator('.try-out__btn').click();
    const body = JSON.parse(await op.locator('textarea.body-param__text').inputValue());
    expect(body).toEqual({
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    });
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table td.response-col_status:not(.col_header)');
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('202');
    const answer = JSON.parse(
      (await op.locator('.live-responses-table .response-col_description pre').first().textContent()) as string,
    );
    expect(answer).toMatchObject({ status: 'running', created: true });
    await status.scrollIntoViewIfNeeded();
    await browser.screenshot(page, 'swagger-try-it-out-submit-202');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs the inline workflow example of POST /api/v1/validate with "Try it out"', async () => {
    const { page, errors } = await browser.tab();
    await page.goto(`${api.url}/docs#/templates/validateWorkflow`);
    const op = page.locator('#operations-templates-validateWorkflow');
    await op.locator('.try-out__btn').click();
    const body = JSON.parse(await op.locator('textarea.body-param__text').inputValue());
    expect(Object.keys(body).sort()).toEqual(['variables', 'workflow']);
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table td.response-col_status:not(.col_header)');
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');
    const answer = JSON.parse(
      (await op.locator('.live-responses-table .response-col_description pre').first().textContent()) as string,
    );
    expect(answer.valid).toBe(true);
    await status.scrollIntoViewIfNeeded();
    await browser.screenshot(page, 'swagger-try-it-out-validate-200');
    expect(errors).toEqual([]);
    await page.close();
  });
});
