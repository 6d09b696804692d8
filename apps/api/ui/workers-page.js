// @ts-check
import { api } from './api.js';
import { badge, clear, h, time } from './dom.js';

const REFRESH_MS = 5000;

/**
 * The workers (`GET /api/v1/workers`), by their heartbeats: status (`lost` after 3 missed heartbeats), the task
 * queues each serves, its task types, load and last heartbeat. Refreshed every few seconds.
 * @param {HTMLElement} root
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void}
 */
export function workersPage(root, ctx) {
  const body = h('tbody');
  const summary = h('p', { class: 'muted' });
  clear(root);
  root.append(
    h('h1', {}, 'Workers'),
    summary,
    h(
      'table',
      { class: 'runs workers' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['worker', 'status', 'kind', 'queues', 'task types', 'active', 'host', 'started', 'last heartbeat'].map(
            (c) => h('th', {}, c),
          ),
        ),
      ),
      body,
    ),
  );
  const load = async () => {
    const { workers } = await api('GET', '/api/v1/workers');
    const live = workers.filter((/** @type {any} */ w) => w.status === 'live').length;
    summary.textContent = `${live} live, ${workers.length - live} lost. A worker missing 3 heartbeats is lost; one that stops cleanly leaves the list.`;
    const rows = workers.map(row);
    if (workers.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'no workers')));
    body.replaceChildren(...rows);
  };
  load().catch(ctx.onError);
  const timer = setInterval(() => load().catch(ctx.onError), REFRESH_MS);
  return () => clearInterval(timer);
}

/** @param {any} w */
function row(w) {
  return h(
    'tr',
    { dataset: { name: w.name, status: w.status } },
    h('td', { class: 'name' }, w.name),
    h('td', {}, badge(w.status)),
    h('td', {}, w.kind),
    h('td', { class: 'queues' }, ...w.queues.map((/** @type {string} */ q) => h('code', {}, q, ' '))),
    h('td', { class: 'types' }, w.task_types.join(', ')),
    h('td', { class: 'active' }, `${w.active} / ${w.concurrency}`),
    h('td', {}, `${w.host}:${w.pid}`),
    h('td', {}, time(w.started_at)),
    h('td', {}, time(w.last_heartbeat_at)),
  );
}
