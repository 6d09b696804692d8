import type { Page } from 'playwright-core';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-attempts-key';

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  // A short lock, so a lost one is found within a second or two.
  await h.startWorker({ lockDurationMs: 1000, stalledIntervalMs: 500 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

/** The rows of the open panel's attempts table: number, status, outcome shown, worker. */
async function attemptRows(page: Page, task: string): Promise<string[][]> {
  return page
    .locator(`aside.panel[data-task="${task}"] .attempts-table tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-attempt') as string,
        tr.getAttribute('data-status') as string,
        tr.lastElementChild?.textContent as string,
      ]),
    );
}

describe('task panel attempts', () => {
  it('shows every attempt of the record: retries with their cause chains, a timeout, a re-run after a lost lock', async () => {
    const retry = (n: number) => ({ retry_policy: { max_retries: n, backoff_type: 'fixed', initial_delay: '50ms' } });
    const id = await h.submit(
      wf([
        probe('flaky', [], { fail_times: 2, cause: 'connect ECONNREFUSED 127.0.0.1:9' }, retry(2)),
        probe('slow', [], { sleep_ms: 5000, slow_times: 1 }, { timeout: '300ms', ...retry(1) }),
        // Its lock is taken away while its first attempt sleeps, as a dead worker's expires: the stall check runs it
        // again. The first attempt's late end (after 8 s) is not recorded: the re-run's completion was first.
        probe('held', [], { sleep_ms: 8000, slow_times: 1 }),
      ]),
    );
    await h.started('held');
    await h.connection.del(`test:tasks:${id}.held:lock`);
    const stalled = await h.waitForEvent(id, (e) => e.type === 'task.stalled' && e.task === 'held');
    expect(stalled.attempt).toBe(1);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');

    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.waitForSelector('.live[data-state="ended"]');
    await page.locator('svg.dag g.task[data-task="flaky"]').click();
    await page.locator('aside.panel[data-task="flaky"] .attempts-table').waitFor();
    expect(await attemptRows(page, 'flaky')).toEqual([
      ['1', 'retried', 'failed, retried'],
      ['2', 'retried', 'failed, retried'],
      ['3', 'completed', 'completed'],
    ]);
    const errorsShown = await page
      .locator('aside.panel[data-task="flaky"] .attempt-error')
      .evaluateAll((ps) => ps.map((p) => p.textContent));
    expect(errorsShown).toEqual([
      '#1: flaky failure 1\ncaused by: connect ECONNREFUSED 127.0.0.1:9',
      '#2: flaky failure 2\ncaused by: connect ECONNREFUSED 127.0.0.1:9',
    ]);
    // The cause is on a line of its own.
    const lines = await page
      .locator('aside.panel[data-task="flaky"] .attempt-error')
      .first()
      .evaluate((p) => p.getClientRects().length > 0 && p.getBoundingClientRect().height);
    expect(lines).toBeGreaterThan(25);
    await browser.screenshot(page, 'task-panel-attempt-history');

    await page.locator('svg.dag g.task[data-task="slow"]').click();
    await page.locator('aside.panel[data-task="slow"] .attempts-table').waitFor();
    expect(await attemptRows(page, 'slow')).toEqual([
      ['1', 'timed_out', 'timed out, retried'],
      ['2', 'completed', 'completed'],
    ]);

    await page.locator('svg.dag g.task[data-task="held"]').click();
    await page.locator('aside.panel[data-task="held"] .attempts-table').waitFor();
    expect(await attemptRows(page, 'held')).toEqual([
      ['1', 'lost', 'lost: its worker was gone, run again'],
      ['2', 'completed', 'completed'],
    ]);
    await browser.screenshot(page, 'task-panel-lost-attempt');
    expect(errors).toEqual([]);
    await page.close();
  });
});
