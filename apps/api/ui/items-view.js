// @ts-check
import { ApiError, api } from './api.js';
import { badge, formatMs, h } from './dom.js';

/**
 * A parallel task's items (its `tasks` or `for_each` sub-tasks): counts by status, then one row per item with its
 * status, attempts, duration and error or output. Read from the sub-task jobs, 200 at a time.
 * @param {string} runId
 * @param {string} taskId
 * @param {unknown[] | undefined} outputs the task's output once it completed: the items' outputs in order (used
 *   when an item's job no longer has its return value)
 */
export function itemsView(runId, taskId, outputs) {
  const root = h('div', { class: 'items', dataset: { task: taskId } }, h('p', { class: 'muted' }, 'loading items…'));
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'more items');
  let offset = 0;
  const load = async () => {
    const page = await api(
      'GET',
      `/ui/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/items?offset=${offset}&limit=200`,
    );
    if (offset === 0) {
      const counts = Object.entries(page.counts).filter(([, n]) => Number(n) > 0);
      root.replaceChildren(
        h(
          'p',
          { class: 'item-counts', dataset: { total: page.total } },
          `${page.total} items (attempt ${page.attempt}): `,
          ...counts.flatMap(([status, n], i) => [i ? ' · ' : '', `${n} `, badge(status)]),
        ),
        h(
          'table',
          { class: 'items-table' },
          h(
            'thead',
            {},
            h('tr', {}, ...['#', 'status', 'attempts', 'took', 'output / error'].map((c) => h('th', {}, c))),
          ),
          body,
        ),
        more,
      );
    }
    for (const item of page.items) {
      const output = item.output !== undefined ? item.output : outputs?.[item.index];
      const value = item.error ?? (item.status === 'completed' && output !== undefined ? JSON.stringify(output) : '');
      body.append(
        h(
          'tr',
          { dataset: { index: item.index, status: item.status } },
          h('td', {}, String(item.index)),
          h('td', {}, badge(item.status)),
          h('td', {}, String(item.attempts)),
          h('td', {}, formatMs(item.duration_ms)),
          h(
            'td',
            { class: item.error ? 'error' : 'value', title: value },
            value.length > 80 ? `${value.slice(0, 79)}…` : value,
          ),
        ),
      );
    }
    offset += page.items.length;
    more.hidden = offset >= page.total;
  };
  more.addEventListener('click', () => {
    load().catch(show);
  });
  const show = (/** @type {unknown} */ error) => {
    root.replaceChildren(h('p', { class: 'error' }, error instanceof ApiError ? error.describe() : String(error)));
  };
  load().catch(show);
  return root;
}
