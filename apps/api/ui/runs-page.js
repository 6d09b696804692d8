// @ts-check
import { api } from './api.js';
import { badge, clear, formatMs, h, time } from './dom.js';

export const STATUSES = ['pending', 'running', 'paused', 'completed', 'failed', 'timed_out', 'cancelled'];
const PAGE = 50;
const REFRESH_MS = 5000;

/**
 * The list of recent runs, newest first, filtered by status and template (`#/runs?status=failed&template=x`).
 * The first page refreshes itself every few seconds; "older runs" follows the API's cursor.
 * @param {HTMLElement} root
 * @param {URLSearchParams} query
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void} stops the refresh
 */
export function runsPage(root, query, ctx) {
  const status = query.get('status') ?? '';
  const template = query.get('template') ?? '';
  /** @param {Record<string, string>} change */
  const link = (change) => {
    const next = new URLSearchParams({ status, template, ...change });
    for (const [k, v] of [...next]) if (!v) next.delete(k);
    const text = next.toString();
    return `#/runs${text ? `?${text}` : ''}`;
  };
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'older runs');
  const templateInput = /** @type {HTMLInputElement} */ (
    h('input', { type: 'search', name: 'template', placeholder: 'template id', value: template })
  );
  clear(root);
  root.append(
    h('h1', {}, 'Runs'),
    h(
      'div',
      { class: 'filters' },
      h(
        'nav',
        { class: 'status-filter', 'aria-label': 'status filter' },
        ...['', ...STATUSES].map((s) =>
          h(
            'a',
            {
              href: link({ status: s }),
              class: s === status ? 'chip active' : 'chip',
              dataset: { status: s || 'all' },
            },
            s ? s.replace('_', ' ') : 'all',
          ),
        ),
      ),
      h(
        'form',
        {
          class: 'template-filter',
          onsubmit: (/** @type {Event} */ e) => {
            e.preventDefault();
            location.hash = link({ template: templateInput.value.trim() });
          },
        },
        templateInput,
      ),
    ),
    h(
      'table',
      { class: 'runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['execution', 'status', 'workflow', 'created', 'took', 'correlation'].map((c) => h('th', {}, c)),
        ),
      ),
      body,
    ),
    more,
  );

  /** @type {string | null} */
  let cursor = null;
  let paged = false;
  /** @param {boolean} append */
  const load = async (append) => {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (status) params.set('status', status);
    if (template) params.set('template', template);
    if (append && cursor) params.set('cursor', cursor);
    const page = await api('GET', `/api/v1/workflows?${params}`);
    if (!append) clear(body);
    for (const run of page.items) body.append(row(run));
    if (!append && page.items.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, status ? `no ${status} runs` : 'no runs yet')));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', () => {
    paged = true;
    load(true).catch(ctx.onError);
  });
  load(false).catch(ctx.onError);
  // Only the first page refreshes: reloading would drop the older pages the user asked for.
  const timer = setInterval(() => {
    if (!paged && document.visibilityState === 'visible') load(false).catch(ctx.onError);
  }, REFRESH_MS);
  return () => clearInterval(timer);
}

/** @param {any} run */
function row(run) {
  const href = `#/runs/${encodeURIComponent(run.execution_id)}`;
  const took = run.finished_at ? formatMs(Date.parse(run.finished_at) - Date.parse(run.created_at)) : '';
  return h(
    'tr',
    { dataset: { id: run.execution_id, status: run.status } },
    h('td', {}, h('a', { href, class: 'run-link' }, h('code', {}, run.execution_id))),
    h('td', {}, badge(run.status)),
    h('td', {}, run.template ? `${run.template.id}@${run.template.version ?? '-'}` : run.workflow_id),
    h('td', {}, time(run.created_at)),
    h('td', {}, took),
    h('td', {}, run.correlation_id ?? ''),
  );
}
