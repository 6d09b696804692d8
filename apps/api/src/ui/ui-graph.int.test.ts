import type { Page } from 'playwright-core';
import { randomDag } from '../../../worker/src/test-worker-processes';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, measureLabels, startBrowser } from './test-browser';

jest.setTimeout(120_000);

const KEY = 'ui-graph-key';
/** The screen the issue asks big graphs to be legible on. */
const SCREEN = { width: 1440, height: 900 };

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 50 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser();
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

const transform = (id: string, deps: string[] = []) => ({
  id,
  type: 'transform',
  depends_on: deps,
  parameters: { output: id },
});

/** The scale the graph is drawn at and its content transform. */
const view = async (page: Page) => ({
  scale: Number(await page.locator('svg.dag').getAttribute('data-scale')),
  transform: await page.locator('svg.dag g.viewport').getAttribute('transform'),
});

async function open(page: Page, id: string, finalTask: string, status = 'completed') {
  await page.goto(`${api.url}/ui/#/runs/${id}`);
  await page.waitForSelector(`svg.dag g.task[data-task="${finalTask}"][data-status="${status}"]`);
  await page.waitForSelector('.live[data-state="ended"]');
}

describe('big graphs', () => {
  it('folds a 1 → 500 → 1 fan-out into one node with counts, legible at 1440×900, and expands it', async () => {
    const middle = Array.from({ length: 500 }, (_, i) => transform(`work_${i}`, ['start']));
    const record = await h.run(
      wf(
        [
          transform('start'),
          ...middle,
          transform(
            'finish',
            middle.map((t) => t.id),
          ),
        ],
        { id: 'fan-out-500' },
      ),
      {},
      60_000,
    );
    expect(record.status).toBe('completed');
    const { page, errors } = await browser.tab(KEY, SCREEN);
    await open(page, record.execution_id, 'finish');
    const group = page.locator('svg.dag g.group[data-group="work_0"]');
    expect(await group.getAttribute('data-members')).toBe('500');
    expect(await group.getAttribute('data-status')).toBe('completed');
    expect(JSON.parse((await group.locator('.counts').getAttribute('data-counts')) as string)).toEqual({
      completed: 500,
    });
    expect(await group.locator('.task-id').textContent()).toBe('500 × transform');
    expect(await page.locator('svg.dag g.task').count()).toBe(2);
    expect(await page.locator('svg.dag path.edge').count()).toBe(2);
    const labels = await measureLabels(page);
    expect(labels.visible).toBe(3);
    expect(labels.minFontPx).toBeGreaterThanOrEqual(10);
    expect(labels.minHeightPx).toBeGreaterThanOrEqual(10);
    expect(labels.overlaps).toBe(0);
    await browser.screenshot(page, 'graph-fan-out-500-folded');

    // The group's panel: counts as filters, members a page at a time, a member's own details.
    await group.click();
    const panel = page.locator('aside.group-panel[data-group="work_0"]');
    await panel.waitFor();
    expect(await panel.locator('.group-counts [data-status="completed"]').getAttribute('data-count')).toBe('500');
    expect(await panel.locator('ol.members li').count()).toBe(100);
    await panel.locator('ol.members li[data-task="work_7"] button.member').click();
    const member = page.locator('aside.panel[data-task="work_7"]');
    await member.waitFor();
    expect(await member.locator('dd .badge').first().getAttribute('data-status')).toBe('completed');
    await browser.screenshot(page, 'graph-fan-out-500-member-panel');
    await member.locator('button.back').click();
    await panel.waitFor();

    // Expanded: 502 nodes, still opening at a readable scale, with the rest a pan (or the minimap) away.
    await panel.locator('button.expand').click();
    await page.waitForFunction(`document.querySelectorAll('svg.dag g.task').length === 502`);
    expect(await page.locator('svg.dag g.group').count()).toBe(0);
    const expanded = await measureLabels(page);
    expect(expanded.minFontPx).toBeGreaterThanOrEqual(10);
    expect(expanded.overlaps).toBe(0);
    expect(expanded.visible).toBeGreaterThan(5);
    expect(await page.locator('.minimap').isVisible()).toBe(true);
    await browser.screenshot(page, 'graph-fan-out-500-expanded');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a 200-task random DAG legibly at 1440×900, with zoom, pan, fit and the minimap', async () => {
    const { tasks } = randomDag(200, 7);
    const record = await h.run(wf(tasks, { id: 'random-200' }), {}, 60_000);
    expect(record.status).toBe('completed');
    const { page, errors } = await browser.tab(KEY, SCREEN);
    await open(page, record.execution_id, 'n199');
    // Some of its leaves are siblings (same dependency, no dependents) in groups wider than 12: every task is drawn
    // as its own node or inside one group node.
    const grouped = await page
      .locator('svg.dag g.group')
      .evaluateAll((groups) => groups.map((g) => Number(g.getAttribute('data-members'))));
    expect((await page.locator('svg.dag g.task').count()) + grouped.reduce((a, b) => a + b, 0)).toBe(200);
    await browser.screenshot(page, 'graph-random-200');
    const labels = await measureLabels(page);
    expect(labels.minFontPx).toBeGreaterThanOrEqual(10);
    expect(labels.minHeightPx).toBeGreaterThanOrEqual(10);
    expect(labels.overlaps).toBe(0);
    expect(labels.visible).toBeGreaterThanOrEqual(20);

    const first = await view(page);
    expect(first.scale).toBeGreaterThanOrEqual(0.8);
    await page.click('.zoom-controls .zoom-in');
    expect((await view(page)).scale).toBeCloseTo(first.scale * 1.25, 2);
    await page.click('.zoom-controls .zoom-out');
    expect((await view(page)).scale).toBeCloseTo(first.scale, 2);

    // Drag pans by the distance dragged.
    const box = (await page.locator('svg.dag').boundingBox()) as {
      x: number;
      y: number;
      width: number;
      height: number;
    };
    const before = await view(page);
    await page.mouse.move(box.x + 300, box.y + 300);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + 250, { steps: 5 });
    await page.mouse.up();
    const moved = await view(page);
    const shift = (t: string | null) => (t?.match(/translate\(([-\d.]+) ([-\d.]+)\)/) ?? []).slice(1).map(Number);
    const [bx = 0, by = 0] = shift(before.transform);
    const [mx = 0, my = 0] = shift(moved.transform);
    expect(mx - bx).toBeCloseTo(-100, 0);
    expect(my - by).toBeCloseTo(-50, 0);

    // Ctrl + wheel zooms around the pointer.
    await page.mouse.move(box.x + 400, box.y + 200);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -200);
    await page.keyboard.up('Control');
    expect((await view(page)).scale).toBeGreaterThan(moved.scale);

    // The minimap moves the view; Fit shows everything (small, as asked for).
    await page.locator('.minimap svg').click({ position: { x: 5, y: 5 } });
    await page.click('.zoom-controls .zoom-fit');
    const fitted = await view(page);
    expect(fitted.scale).toBeLessThan(0.8);
    expect(await page.locator('.minimap').isHidden()).toBe(true);
    await browser.screenshot(page, 'graph-random-200-fit');
    // A task clicked in the fitted view still opens its panel.
    await page.locator('g.task[data-task="n0"]').click();
    await page.locator('aside.panel[data-task="n0"]').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('sub-workflows and parallel items', () => {
  it('links a sub-workflow task to its child run, and the child back to its parent', async () => {
    const parent = wf(
      [
        transform('prepare'),
        {
          id: 'nested',
          type: 'workflow',
          depends_on: ['prepare'],
          parameters: { workflow: { id: 'inner', tasks: [transform('inner_a'), transform('inner_b', ['inner_a'])] } },
        },
      ],
      { id: 'outer' },
    );
    const record = await h.run(parent);
    expect(record.status).toBe('completed');
    const child = (record.tasks.find((t) => t.id === 'nested')?.output as { execution_id: string } | undefined)
      ?.execution_id;
    const { page, errors } = await browser.tab(KEY);
    await open(page, record.execution_id, 'nested');
    const link = page.locator('g.task[data-task="nested"] a.child-link');
    expect(await link.getAttribute('data-child')).toBe(child);
    await browser.screenshot(page, 'graph-sub-workflow-parent');
    await page.locator('g.task[data-task="nested"] .box').click();
    expect(await page.locator('aside.panel[data-task="nested"] a.child-run').getAttribute('href')).toBe(
      `#/runs/${child}`,
    );
    await link.click();
    await page.waitForSelector('svg.dag g.task[data-task="inner_b"][data-status="completed"]');
    const back = page.locator('.parent-link a.parent-run');
    expect(await back.textContent()).toBe(record.execution_id);
    expect(await page.locator('.parent-link').textContent()).toContain('(task nested)');
    await browser.screenshot(page, 'graph-sub-workflow-child');
    await back.click();
    await page.waitForSelector('svg.dag g.task[data-task="nested"][data-status="completed"]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a parallel task's for_each items as counts on its node and one row each in its Items tab", async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ value: i, permanent: i % 10 === 3 }));
    const record = await h.run(
      wf([
        probe('seed'),
        {
          id: 'fan',
          type: 'parallel',
          depends_on: ['seed'],
          parameters: {
            for_each: items,
            task: { type: 'data', parameters: { operation: 'search', input: '${item}' } },
          },
        },
      ]),
    );
    expect(record.status).toBe('failed');
    const { page, errors } = await browser.tab(KEY);
    await open(page, record.execution_id, 'fan', 'failed');
    const counts = page.locator('g.task[data-task="fan"] .counts');
    await page.waitForFunction(
      `document.querySelector('g.task[data-task="fan"] .counts')?.hasAttribute('data-counts')`,
    );
    expect(JSON.parse((await counts.getAttribute('data-counts')) as string)).toEqual({ completed: 27, failed: 3 });
    expect(await counts.textContent()).toBe('30 items: 27 completed · 3 failed');
    await page.locator('g.task[data-task="fan"] .box').click();
    const panel = page.locator('aside.panel[data-task="fan"]');
    await panel.locator('.tab[data-tab="items"]').click();
    await panel.locator('.items-table tbody tr').nth(29).waitFor();
    expect(await panel.locator('.item-counts').getAttribute('data-total')).toBe('30');
    expect(await panel.locator('tr[data-index="3"]').getAttribute('data-status')).toBe('failed');
    expect(await panel.locator('tr[data-index="3"] td.error').textContent()).toBe('task fan[3] refuses');
    expect(await panel.locator('tr[data-index="4"]').getAttribute('data-status')).toBe('completed');
    expect(await panel.locator('tr[data-index="4"] td.value').textContent()).toBe('4');
    await browser.screenshot(page, 'graph-parallel-items');
    // The items route checks its input and names only parallel tasks.
    const bad = await api.call('GET', `/ui/api/runs/${record.execution_id}/tasks/seed/items`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect([bad.status, bad.body.error.message]).toEqual([
      404,
      `parallel task of execution ${record.execution_id} 'seed' was not found`,
    ]);
    const page2 = await api.call('GET', `/ui/api/runs/${record.execution_id}/tasks/fan/items?offset=28&limit=5`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(page2.body.items.map((i: { index: number }) => i.index)).toEqual([28, 29]);
    const wrong = await api.call('GET', `/ui/api/runs/${record.execution_id}/tasks/fan/items?limit=0`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect([wrong.status, wrong.body.error.details]).toEqual([
      400,
      [{ pointer: '/limit', message: 'must be an integer from 1 to 500' }],
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
