import { once } from 'node:events';
import type { Firing } from '@orch/engine';
import { withDeadline } from '@orch/testing';
import { type Harness, startApi, startHarness, type TestApi } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-schedules-key';
const auth = { authorization: `Bearer ${KEY}` };

let h: Harness;
let api: TestApi;
let worker: Awaited<ReturnType<Harness['startWorker']>>;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  worker = await h.startWorker({ concurrency: 5 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

const hello = { id: 'tick', tasks: [{ id: 't', type: 'transform', parameters: { output: 'tick' } }] };

describe('schedules page', () => {
  it('lists schedules with their next run and firings, and pauses and resumes one', async () => {
    const yearly = await api.call('POST', '/api/v1/schedules', {
      headers: auth,
      body: { id: 'new-year', cron: '0 0 1 1 *', timezone: 'Europe/Paris', workflow_template: 'data-analysis-basic' },
    });
    expect(yearly.status).toBe(201);
    // Every second, so it fires while the test watches; the worker's schedule manager says when it has.
    const fired = once(worker.schedules, 'firing') as Promise<[string, Firing]>;
    expect(
      (
        await api.call('POST', '/api/v1/schedules', {
          headers: auth,
          body: { id: 'every-second', cron: '* * * * * *', workflow: hello },
        })
      ).status,
    ).toBe(201);
    const [, firing] = await withDeadline(fired, 15_000, 'a firing of every-second');
    await h.waitForEnd(firing.execution_id as string);

    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/schedules`);
    const yearRow = page.locator('table.schedules tr[data-id="new-year"]');
    await yearRow.waitFor();
    expect(await yearRow.locator('td').nth(2).textContent()).toBe('0 0 1 1 *Europe/Paris');
    expect(await yearRow.locator('td').nth(3).textContent()).toBe('data-analysis-basic');
    expect(await yearRow.locator('td').nth(4).locator('time').getAttribute('datetime')).toMatch(
      /-12-31T23:00:00.000Z$/,
    ); // midnight in Paris, UTC+1 in winter;

    const secondRow = page.locator('table.schedules tr[data-id="every-second"]');
    expect(Number(await secondRow.locator('td.fired').textContent())).toBeGreaterThanOrEqual(1);
    expect(await secondRow.locator('td').nth(3).textContent()).toBe('inline tick');
    // Pause: the page shows it paused, and the API agrees.
    await secondRow.locator('button.pause').click();
    await page.waitForSelector('tr[data-id="every-second"][data-paused="true"] .badge[data-status="paused"]');
    expect((await api.call('GET', '/api/v1/schedules/every-second', { headers: auth })).body.paused).toBe(true);
    await secondRow.locator('button.firings').click();
    const firings = page.locator('tr.firings[data-for="every-second"]');
    await firings.waitFor();
    expect(await firings.locator(`a[href="#/runs/${firing.execution_id}"]`).count()).toBe(1);
    await browser.screenshot(page, 'schedules-paused-with-firings');

    await secondRow.locator('button.resume').click();
    await page.waitForSelector('tr[data-id="every-second"][data-paused="false"] .badge[data-status="active"]');
    expect((await api.call('GET', '/api/v1/schedules/every-second', { headers: auth })).body.paused).toBe(false);
    await browser.screenshot(page, 'schedules-list');
    await api.call('DELETE', '/api/v1/schedules/every-second', { headers: auth });
    expect(errors).toEqual([]);
    await page.close();
  });
});
