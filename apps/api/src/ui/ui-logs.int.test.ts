import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-logs-key';

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 4 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

const submit = async (workflow: unknown): Promise<string> =>
  (await api.call('POST', '/api/v1/workflows', { body: { workflow }, headers: { authorization: `Bearer ${KEY}` } }))
    .body.execution_id;

const lineTexts = (page: import('playwright-core').Page) =>
  page
    .locator('.logs .log-line')
    .evaluateAll((rows) =>
      rows.map((r) => [
        r.getAttribute('data-stream'),
        r.getAttribute('data-level'),
        r.querySelector('.log-message')?.textContent,
      ]),
    );

describe('the Logs tab and the run’s variables and result', () => {
  it('follows a running task’s log live, then shows how the attempt ended', async () => {
    const id = await submit(
      wf([
        probe('load', [], { log: ['reading 3 files', 'files read'], sleep_ms: 8000 }),
        probe('report', ['load'], { value: 'ok' }),
      ]),
    );
    await h.started('load');
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.click('g.task[data-task="load"]');
    await page.click('aside.panel[data-task="load"] .tab[data-tab="logs"]');
    await page.waitForSelector('.logs .log-line >> nth=1');
    // Still running: the tab follows the attempt live.
    expect((await h.engine.get(id)).tasks.find((t) => t.id === 'load')?.status).toBe('running');
    expect(await page.locator('.logs').getAttribute('data-state')).toBe('following live');
    expect(await lineTexts(page)).toEqual([
      ['log', 'info', 'reading 3 files'],
      ['log', 'info', 'files read'],
    ]);
    await browser.screenshot(page, 'logs-tab-live');
    await page.waitForSelector('.logs[data-state="ended"][data-ending="completed"]', { timeout: 20_000 });
    expect(await page.locator('.logs .log-state').textContent()).toBe('ended: completed');
    // The panel is redrawn as the run moves on; the log it shows stays the same.
    expect(await lineTexts(page)).toHaveLength(2);
    await browser.screenshot(page, 'logs-tab-ended');
    expect(errors).toEqual([]);
  });

  it('moves on to the next attempt when one ends retrying, and each attempt has its button', async () => {
    const retry = { retry_policy: { max_retries: 1, initial_delay: '300ms' } };
    const id = await submit(wf([probe('flaky', [], { log: ['trying'], fail_times: 1, sleep_ms: 300 }, retry)]));
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.click('g.task[data-task="flaky"]');
    await page.click('aside.panel[data-task="flaky"] .tab[data-tab="logs"]');
    await page.waitForSelector('.logs[data-attempt="2"][data-state="ended"][data-ending="completed"]', {
      timeout: 20_000,
    });
    expect(await page.locator('.logs .log-bar button.attempt').count()).toBe(2);
    await page.click('.logs .log-bar button.attempt[data-attempt="1"]');
    await page.waitForSelector('.logs[data-attempt="1"][data-ending="retrying"]');
    expect(await lineTexts(page)).toEqual([['log', 'info', 'trying']]);
    expect(errors).toEqual([]);
  });

  it('shows the run’s variables and its result (the workflow’s output) on the run page', async () => {
    const workflow = wf([probe('a', [], { value: 20 }), probe('b', ['a'], { value: 22 })], {
      id: 'answer',
      variables: { region: 'eu-west', limit: 5 },
      output: { answer: '${a.output + b.output}', region: '${region}' },
    });
    const id = await submit(workflow);
    await h.waitForEnd(id);
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.waitForSelector('.run-result[data-state="set"]');
    expect(JSON.parse((await page.locator('.run-variables pre').textContent()) as string)).toEqual({
      region: 'eu-west',
      limit: 5,
    });
    expect(JSON.parse((await page.locator('.run-result pre').textContent()) as string)).toEqual({
      answer: 42,
      region: 'eu-west',
    });
    await browser.screenshot(page, 'run-variables-result');
    // A failed run has no result, and says so.
    const failed = await submit(wf([probe('boom', [], { permanent: true })]));
    await h.waitForEnd(failed);
    await page.goto(`${api.url}/ui/#/runs/${failed}`);
    await page.waitForSelector('.run-result[data-state="none"]');
    await page.waitForSelector('.live[data-state="ended"]');
    expect(await page.locator('.run-result p').textContent()).toBe('none: the run failed');
    expect(errors).toEqual([]);
  });
});
