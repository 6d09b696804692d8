import type { Page } from 'playwright-core';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-test-key';

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  // A named key: approvals are decided under its name, which the approval below lists.
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: `alice:${KEY}:read+run` });
  browser = await startBrowser();
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

const auth = { authorization: `Bearer ${KEY}` };

/** A tab that already holds the API key, as after entering it once; page errors fail the test. */
const tab = () => browser.tab(KEY);

const statuses = async (page: Page) => {
  const nodes = page.locator('svg.dag g.task');
  const out: Record<string, string | null> = {};
  for (let i = 0; i < (await nodes.count()); i++) {
    const node = nodes.nth(i);
    out[(await node.getAttribute('data-task')) as string] = await node.getAttribute('data-status');
  }
  return out;
};

describe('web view', () => {
  it('serves the page and its assets without a key, with a CSP; the data route needs the key', async () => {
    const page = await api.call('GET', '/ui/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).not.toMatch(/<script>(?!<)/); // no inline script
    for (const asset of [
      'app.js',
      'api.js',
      'dag-view.js',
      'style.css',
      'graph.css',
      'dagre.min.js',
      'yaml/index.js',
    ]) {
      expect((await api.call('GET', `/ui/assets/${asset}`)).status).toBe(200);
    }
    const yaml = await api.call('GET', '/ui/assets/yaml/nodes/YAMLMap.js');
    expect([yaml.status, yaml.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    for (const outside of ['yaml/..%2F..%2Fpackage.json', 'yaml/../../package.json', 'yaml/.hidden.js', 'index.html']) {
      expect((await api.call('GET', `/ui/assets/${outside}`)).status).toBe(404);
    }
    expect((await fetch(`${api.url}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
    expect((await api.call('GET', '/ui/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await api.call('GET', '/ui/api/runs/nope/graph')).status).toBe(401);
    const missing = await api.call('GET', '/ui/api/runs/nope/graph', { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("execution 'nope' was not found");
  });

  it('gives the run graph with dependencies and condition branches, which the record lacks', async () => {
    const id = await h.submit(
      wf(
        [
          probe('score'),
          {
            id: 'gate',
            type: 'condition',
            depends_on: ['score'],
            condition: '${score.output > 0}',
            on_success: ['yes'],
            on_failure: ['no'],
          },
          { id: 'yes', type: 'transform', parameters: { output: 'y' } },
          { id: 'no', type: 'transform', parameters: { output: 'n' } },
        ],
        { id: 'branching', name: 'Branching' },
      ),
    );
    const graph = await api.call('GET', `/ui/api/runs/${id}/graph`, { headers: auth });
    expect(graph.status).toBe(200);
    expect(graph.body).toEqual({
      execution_id: id,
      workflow: { id: 'branching', name: 'Branching' },
      tasks: [
        { id: 'score', type: 'data', depends_on: [] },
        { id: 'gate', type: 'condition', depends_on: ['score'], condition: '${score.output > 0}' },
        { id: 'yes', type: 'transform', depends_on: ['gate'], branches: { gate: 'on_success' } },
        { id: 'no', type: 'transform', depends_on: ['gate'], branches: { gate: 'on_failure' } },
      ],
    });
    await h.waitForEnd(id);
  });

  it('asks for the API key once, then lists runs and filters them by status', async () => {
    const done = await h.run(wf([probe('one')], { id: 'listed-ok' }));
    const failed = await h.run(wf([probe('bad', [], { permanent: true })], { id: 'listed-bad' }));
    const page = await browser.context.newPage();
    await page.goto(`${api.url}/ui/`);
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#key-input', KEY);
    await page.click('#key-save');
    await page.waitForSelector(`tr[data-id="${done.execution_id}"]`);
    expect(await page.evaluate("sessionStorage.getItem('orchestrator.apiKey')")).toBe(KEY);
    await page.click('.status-filter a[data-status="failed"]');
    await page.waitForSelector(`tr[data-id="${failed.execution_id}"]`);
    await page.waitForFunction(`!document.querySelector('tr[data-id="${done.execution_id}"]')`);
    const rows = page.locator('table.runs tbody tr');
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(['failed']));
    expect(await page.locator('.status-filter a.active').getAttribute('data-status')).toBe('failed');
    expect(page.url()).toMatch(/#\/runs\?status=failed$/);
    await browser.screenshot(page, 'runs-list-filtered-failed', true);
    await page.click(`tr[data-id="${failed.execution_id}"] a.run-link`);
    await page.waitForSelector('svg.dag g.task[data-task="bad"][data-status="failed"]');
    await page.close();
  });

  it('draws a finished diamond as SVG with each task coloured by status, and shows a task on click', async () => {
    const diamond = wf(
      [probe('a'), probe('b', ['a']), probe('c', ['a'], { permanent: true }), probe('d', ['b', 'c'])],
      // fail_fast off: b runs to completion whichever of b and c ends first, so the statuses below are certain.
      { id: 'diamond', name: 'Diamond', fail_fast: false },
    );
    const record = await h.run(diamond);
    const id = record.execution_id;
    const { page, errors } = await tab();
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.waitForSelector('svg.dag g.task[data-task="d"][data-status="upstream_failed"]');
    await page.waitForSelector('.live[data-state="ended"]');
    expect(await statuses(page)).toEqual({ a: 'completed', b: 'completed', c: 'failed', d: 'upstream_failed' });
    expect(await page.locator('svg.dag path.edge').count()).toBe(4);
    expect(await page.locator('svg.dag path.edge[data-from="c"][data-to="d"]').getAttribute('data-status')).toBe(
      'failed',
    );
    // Ranks top to bottom: a above b and c (side by side), d below them.
    const y = async (task: string) => (await page.locator(`g.task[data-task="${task}"]`).boundingBox())?.y ?? -1;
    const [ya, yb, yc, yd] = [await y('a'), await y('b'), await y('c'), await y('d')];
    expect(ya).toBeLessThan(yb);
    expect(yb).toBe(yc);
    expect(yc).toBeLessThan(yd);
    expect(await page.locator('.run-head h1 .badge').getAttribute('data-status')).toBe('failed');
    // A failed run's bar is not full: two of four tasks completed, the other two are named.
    expect(await page.locator('.run-head progress').getAttribute('value')).toBe('2');
    expect(await page.locator('.run-head .progress-line').textContent()).toMatch(
      /^ 2\/4 tasks \(1 failed, 1 upstream_failed\) · /,
    );
    expect(await page.locator('.run-error').textContent()).toContain('task failed: c');

    await page.click('g.task[data-task="c"]');
    const panel = page.locator('aside.panel[data-task="c"]');
    await panel.waitFor();
    expect(await panel.locator('pre.error').textContent()).toBe('task c refuses');
    expect(await panel.locator('dd .badge').getAttribute('data-status')).toBe('failed');
    expect(await panel.locator('a.board-link').getAttribute('href')).toBe(`/admin/queues/queue/tasks/${id}.c`);
    expect(await page.locator('g.task[data-task="c"]').getAttribute('class')).toBe('task selected');
    // The record arrives before the event replay ends: wait for the log to hold every event of the run.
    const stored = (await h.engine.events(id)).length;
    await page.waitForFunction(`document.querySelectorAll('ol.events li').length === ${stored}`);
    await browser.screenshot(page, 'run-page-diamond-failed-task', true);

    await page.click('g.task[data-task="b"]');
    await page.click('aside.panel[data-task="b"] .tab[data-tab="output"]');
    expect(await page.locator('aside.panel[data-task="b"] pre.output').textContent()).toBe('2');
    // The same page by path, as `orchestrator` prints it in links.
    await page.goto(`${api.url}/ui/runs/${id}`);
    await page.waitForSelector('svg.dag g.task[data-task="a"][data-status="completed"]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows a live run and approves its approval task from the panel', async () => {
    const gated = wf([
      probe('build'),
      { id: 'review', type: 'approval', depends_on: ['build'], parameters: { message: 'Ship?', approvers: ['alice'] } },
      { id: 'ship', type: 'transform', depends_on: ['review'], parameters: { output: '${review.output.payload.t}' } },
    ]);
    const id = await h.submit(gated);
    const { page, errors } = await tab();
    await page.goto(`${api.url}/ui/#/runs/${id}`);
    await page.waitForSelector('g.task[data-task="review"][data-status="waiting"]');
    expect(await page.locator('g.task[data-task="ship"]').getAttribute('data-status')).toBe('pending');
    await page.click('g.task[data-task="review"]');
    const panel = page.locator('aside.panel[data-task="review"]');
    expect(await panel.locator('.approvers').textContent()).toBe('approvers: alice');
    expect(await panel.locator('.message').textContent()).toBe('Ship?');
    await panel.locator('input[name="by"]').fill('alice');
    await panel.locator('textarea[name="payload"]').fill('{"t": "OPS-9"}');
    await browser.screenshot(page, 'run-page-approval-waiting');
    await panel.locator('button.approve').click();
    await page.waitForSelector('g.task[data-task="ship"][data-status="completed"]');
    await page.waitForSelector('.run-head h1 .badge[data-status="completed"]');
    expect((await h.waitForEnd(id)).tasks.find((t) => t.id === 'ship')?.output).toBe('OPS-9');
    await page.click('g.task[data-task="ship"]');
    // The panel keeps the tab last chosen when it has one: Overview here, then Output.
    await page.click('aside.panel[data-task="ship"] .tab[data-tab="output"]');
    expect(await page.locator('aside.panel[data-task="ship"] pre.output').textContent()).toBe('"OPS-9"');
    expect(errors).toEqual([]);
    await page.close();
  });
});
