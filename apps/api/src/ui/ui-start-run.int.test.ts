import { CORRELATION_ID_HINT } from '@orch/core';
import type { Page } from 'playwright-core';
import { type Harness, startApi, startHarness, type TestApi } from '../testing';
import { type Browser, startBrowser } from './test-browser';

jest.setTimeout(90_000);

const KEY = 'ui-start-key';
const auth = { authorization: `Bearer ${KEY}` };

let h: Harness;
let api: TestApi;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: KEY });
  browser = await startBrowser({ width: 1440, height: 900 });
});
afterAll(async () => {
  await browser?.close();
  await api?.service.close();
  await h?.stop();
});

/** Every request the page sends to `path` with `method`, recorded as it goes out. */
function sent(page: Page, method: string, path: string): unknown[] {
  const bodies: unknown[] = [];
  page.on('request', (request) => {
    if (request.method() === method && new URL(request.url()).pathname === path) bodies.push(request.postDataJSON());
  });
  return bodies;
}

const fieldError = (page: Page, name: string) => page.locator(`.field[data-variable="${name}"] .field-error`);

describe('templates', () => {
  it('lists the catalog with each template’s typed variables', async () => {
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/templates`);
    const row = page.locator('table.templates tr[data-id="ai-content-pipeline"]');
    await row.waitFor();
    expect(await page.locator('table.templates tbody tr').count()).toBe(2);
    expect(await row.locator('td').nth(4).textContent()).toBe(
      'topic*:string, audience:string, tone:string, min_quality:number',
    );
    expect(await page.locator('header.top nav a.active').getAttribute('data-section')).toBe('templates');
    await browser.screenshot(page, 'templates-list');
    await row.locator('a.run').click();
    await page.waitForSelector('form.variable-form');
    expect(page.url()).toMatch(/#\/templates\/ai-content-pipeline$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('generates a form from the variables: required marked, defaults filled, types checked before sending', async () => {
    const { page, errors } = await browser.tab(KEY);
    const submits = sent(page, 'POST', '/api/v1/workflows');
    await page.goto(`${api.url}/ui/#/templates/ai-content-pipeline`);
    await page.waitForSelector('form.variable-form');
    expect(await page.locator('svg.dag g.task').count()).toBe(8);
    expect(await page.locator('.field[data-variable="topic"] .required').count()).toBe(1);
    expect(await page.locator('.field[data-variable="audience"] .required').count()).toBe(0);
    expect(await page.inputValue('#var-topic')).toBe('');
    expect(await page.inputValue('#var-audience')).toBe('software engineers');
    expect(await page.inputValue('#var-min_quality')).toBe('0.7');
    expect(await page.locator('#var-min_quality').getAttribute('data-type')).toBe('number');

    await page.fill('#var-min_quality', 'high');
    await page.click('button.run');
    expect(await fieldError(page, 'topic').textContent()).toBe('is required');
    expect(await fieldError(page, 'min_quality').textContent()).toBe('must be a number');
    expect(await page.locator('#var-topic').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate('document.activeElement?.id')).toBe('var-topic');
    await browser.screenshot(page, 'template-form-checked-before-sending');
    expect(submits).toEqual([]);

    // The API's own errors land at the field their pointer names (here the correlation id, which only it checks).
    await page.fill('#var-topic', 'Redis streams');
    await page.fill('#var-min_quality', '0.9');
    await page.fill('#correlation-id', 'not valid');
    await page.click('button.run');
    await page.waitForSelector('#err-correlation:not(:empty)');
    expect(await page.textContent('#err-correlation')).toBe(CORRELATION_ID_HINT);
    expect(await fieldError(page, 'topic').textContent()).toBe('');
    expect(submits).toHaveLength(1);
    await browser.screenshot(page, 'template-form-api-error-at-field');

    // Check: the validation result and plan, before running anything.
    await page.fill('#correlation-id', 'ui-form-1');
    await page.click('button.check');
    const result = page.locator('.validation[data-valid="true"]');
    await result.waitFor();
    expect(await result.locator('h3').textContent()).toMatch(/^valid: 8 tasks in \d+ levels, width \d+$/);
    await browser.screenshot(page, 'template-form-validated');

    await page.click('button.run');
    await page.waitForURL(/#\/runs\/[0-9a-f-]+$/);
    const id = decodeURIComponent((page.url().split('#/runs/')[1] as string).split('?')[0] as string);
    // The harness's ai handler is a probe, so the pipeline's result is beside the point: the run is what was asked.
    await page.waitForSelector(`.run-head code.run-id:text("${id}")`);
    const record = (await api.call('GET', `/api/v1/workflows/${id}`, { headers: auth })).body;
    expect(record.correlation_id).toBe('ui-form-1');
    expect(record.template).toEqual({ id: 'ai-content-pipeline', version: '1.0' });
    expect(record.variables).toMatchObject({
      topic: 'Redis streams',
      min_quality: 0.9,
      audience: 'software engineers',
    });
    expect(submits.at(-1)).toEqual({
      workflow_template: 'ai-content-pipeline',
      variables: {
        topic: 'Redis streams',
        audience: 'software engineers',
        tone: 'clear and practical',
        min_quality: 0.9,
      },
      correlation_id: 'ui-form-1',
    });
    // The browser logs the one refused request (the bad correlation id); nothing else went wrong.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.close();
  });

  it('refuses a fraction for an integer variable', async () => {
    const { page } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/templates/data-analysis-basic`);
    await page.waitForSelector('#var-query_limit');
    expect(await page.inputValue('#var-query_limit')).toBe('100');
    await page.fill('#var-query_limit', '1.5');
    await page.click('button.check');
    expect(await fieldError(page, 'query_limit').textContent()).toBe('must be an integer (no fraction)');
    await page.close();
  });
});

describe('inline workflow submit', () => {
  it('validates YAML before running, shows the plan, and runs exactly what validated', async () => {
    const { page, errors } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/submit`);
    await page.waitForSelector('#workflow-source');
    expect(await page.locator('button.run').isDisabled()).toBe(true);
    await page.click('button.check');
    const valid = page.locator('.validation[data-valid="true"]');
    await valid.waitFor();
    expect(await valid.locator('h3').textContent()).toBe('valid: 2 tasks in 2 levels, width 1');
    expect(await page.locator('button.run').isEnabled()).toBe(true);
    await browser.screenshot(page, 'submit-validated');

    // Editing after validation disables Run until it validates again.
    await page.locator('#workflow-source').press('End');
    await page.locator('#workflow-source').type(' ');
    expect(await page.locator('button.run').isDisabled()).toBe(true);
    await page.click('button.check');
    await valid.waitFor();
    await page.click('button.run');
    await page.waitForURL(/#\/runs\//);
    await page.waitForSelector('svg.dag g.task[data-task="shout"][data-status="completed"]');
    await page.click('g.task[data-task="shout"]');
    await page.click('aside.panel[data-task="shout"] .tab[data-tab="output"]');
    expect(await page.textContent('aside.panel[data-task="shout"] pre.output')).toBe('"HELLO WORLD!"');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows each validation error with its pointer and a link to its line', async () => {
    const { page } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/submit`);
    await page.waitForSelector('#workflow-source');
    const text = (await page.inputValue('#workflow-source')).replace(
      'type: transform\n    depends_on',
      'type: sleep\n    depends_on',
    );
    await page.fill('#workflow-source', text);
    await page.click('button.check');
    const invalid = page.locator('.validation[data-valid="false"]');
    await invalid.waitFor();
    const item = invalid.locator('li[data-pointer="/workflow/tasks/1/type"]');
    expect(await item.textContent()).toMatch(/^line 9 \/workflow\/tasks\/1\/type unknown task type 'sleep'/);
    await item.locator('button.line').click();
    const selected = await page.evaluate(
      `(() => { const a = document.getElementById('workflow-source'); return a.value.slice(a.selectionStart, a.selectionEnd); })()`,
    );
    expect(selected).toBe('sleep');
    expect(await page.locator('button.run').isDisabled()).toBe(true);
    await browser.screenshot(page, 'submit-errors-with-lines');

    await page.fill('#workflow-source', 'id: broken\ntasks: [\n');
    await page.click('button.check');
    await page.waitForSelector('.validation[data-valid="false"] h3:text("not valid YAML or JSON")');
    expect(await page.locator('.validation .errors li').first().textContent()).toMatch(/^line \d+, column \d+ /);
    await browser.screenshot(page, 'submit-yaml-syntax-error');
    await page.close();
  });

  it('checks a template document with its variables but does not run it', async () => {
    const { page } = await browser.tab(KEY);
    await page.goto(`${api.url}/ui/#/submit`);
    await page.waitForSelector('#workflow-source');
    await page.fill(
      '#workflow-source',
      JSON.stringify({
        id: 'pasted',
        name: 'Pasted',
        variables: [{ name: 'n', type: 'integer', required: true }],
        workflow: { id: 'pasted-run', tasks: [{ id: 't', type: 'transform', parameters: { output: '${n}' } }] },
      }),
    );
    await page.fill('#workflow-variables', '{"n": "many"}');
    await page.click('button.check');
    const item = page.locator('.validation[data-valid="false"] li[data-pointer="/variables/n"]');
    await item.waitFor();
    expect(await item.textContent()).toBe('/variables/n variable \'n\' must be an integer; got "many"');
    await page.fill('#workflow-variables', '{"n": 3}');
    await page.click('button.check');
    await page.waitForSelector('.validation[data-valid="true"]');
    expect(await page.locator('button.run').isDisabled()).toBe(true);
    expect(await page.textContent('.run-hint')).toContain('This is a template');
    await page.close();
  });
});
