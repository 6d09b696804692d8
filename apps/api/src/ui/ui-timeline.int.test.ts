import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-timeline-key';

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  // One task at a time, so a task that becomes ready while another runs visibly waits.
  await h.startWorker({ concurrency: 1 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

interface Bar {
  task: string;
  status: string;
  attempt: number;
  x: number;
  width: number;
  tip: string;
}

describe('timeline', () => {
  it('draws each attempt, the backoff between attempts and the wait before a start, from the events', async () => {
    const retry = { max_retries: 2, backoff_type: 'fixed', initial_delay: '400ms' };
    const record = await h.run(
      wf([
        probe('fetch', [], { sleep_ms: 150 }),
        probe('flaky', ['fetch'], { fail_times: 1, sleep_ms: 100 }, { retry_policy: retry }),
        probe('slow', ['fetch'], { sleep_ms: 500 }),
        probe('report', ['flaky', 'slow']),
      ]),
    );
    expect(record.status).toBe('completed');
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${record.execution_id}?view=timeline`);
    await page.waitForSelector('.live[data-state="ended"]');
    await page.waitForSelector('svg.gantt g.row[data-task="report"] rect.attempt[data-status="completed"]');
    expect(await page.locator('.view-tabs .tab[aria-selected="true"]').getAttribute('data-view')).toBe('timeline');
    const rows = await page.locator('svg.gantt g.row').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-task')));
    expect(rows[0]).toBe('fetch');
    expect(rows.at(-1)).toBe('report');
    expect(new Set(rows)).toEqual(new Set(['fetch', 'flaky', 'slow', 'report']));

    const bars: Bar[] = await page.locator('svg.gantt rect.attempt').evaluateAll((rects) =>
      rects.map((r) => ({
        task: r.getAttribute('data-task') as string,
        status: r.getAttribute('data-status') as string,
        attempt: Number(r.getAttribute('data-attempt')),
        x: Number(r.getAttribute('x')),
        width: Number(r.getAttribute('width')),
        tip: r.querySelector('title')?.textContent ?? '',
      })),
    );
    const flaky = bars.filter((b) => b.task === 'flaky');
    expect(flaky.map((b) => [b.attempt, b.status])).toEqual([
      [1, 'retried'],
      [2, 'completed'],
    ]);
    const [first, second] = flaky as [Bar, Bar];
    expect(second.x).toBeGreaterThan(first.x + first.width); // the backoff is the gap between them
    expect(first.tip).toContain('flaky attempt 1 on ');
    expect(first.tip).toContain('flaky failure 1');
    // With one task at a time, `slow` or `flaky` became ready while the other ran: one of them waited.
    const waits = await page.locator('svg.gantt rect.wait').evaluateAll((rects) =>
      rects.map((r) => ({
        task: r.closest('g.row')?.getAttribute('data-task'),
        width: Number(r.getAttribute('width')),
      })),
    );
    expect(waits.some((w) => (w.task === 'slow' || w.task === 'flaky') && w.width > 20)).toBe(true);
    await browser.screenshot(page, 'timeline-retries-and-waits');

    // A row opens the task's panel: its attempts, and how long it waited before the first one.
    // On the row itself: where its centre is depends on the run's timings, and an attempt's bar may lie over it.
    await page.locator('svg.gantt g.row[data-task="flaky"] .row-bg').dispatchEvent('click');
    const panel = page.locator('aside.panel[data-task="flaky"]');
    await panel.waitFor();
    const attempts = await panel
      .locator('.attempts-table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-attempt'), tr.getAttribute('data-status')]));
    expect(attempts).toEqual([
      ['1', 'retried'],
      ['2', 'completed'],
    ]);
    expect(await panel.locator('.attempt-error').textContent()).toBe('#1: flaky failure 1');
    expect(await page.locator('g.row[data-task="flaky"]').getAttribute('class')).toBe('row selected');
    await browser.screenshot(page, 'timeline-task-attempts');

    // The Graph tab shows the same run; the choice is kept in the URL.
    await page.click('.view-tabs .tab[data-view="graph"]');
    await page.waitForSelector('svg.dag g.task[data-task="flaky"][data-attempts="2"]');
    expect(page.url()).not.toContain('view=timeline');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('folds a wide fan-out into one row with its members overlaid, and expands it', async () => {
    const middle = Array.from({ length: 20 }, (_, i) => probe(`part_${i}`, ['begin']));
    const record = await h.run(
      wf([
        probe('begin'),
        ...middle,
        probe(
          'end',
          middle.map((t) => t.id),
        ),
      ]),
    );
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/runs/${record.execution_id}?view=timeline`);
    await page.waitForSelector('.live[data-state="ended"]');
    const group = page.locator('svg.gantt g.row[data-group="part_0"]');
    await group.waitFor();
    expect(await page.locator('svg.gantt g.row').count()).toBe(3);
    expect(await group.locator('rect.attempt.faint').count()).toBe(20);
    expect(await group.locator('.row-label').evaluate((t) => t.firstChild?.textContent)).toBe('20 × part_0 … part_19');
    await browser.screenshot(page, 'timeline-fan-out-folded');
    await group.locator('.row-label').click();
    await page.waitForFunction(`document.querySelectorAll('svg.gantt g.row').length === 22`);
    expect(await page.locator('svg.gantt g.row[data-task="part_13"] rect.attempt').count()).toBe(1);
    await browser.screenshot(page, 'timeline-fan-out-expanded');
    expect(errors).toEqual([]);
    await page.close();
  });
});
