// @ts-check
import { api } from './api.js';
import { badge, clear, h, time } from './dom.js';

const REFRESH_MS = 5000;

/**
 * The cron schedules (`GET /api/v1/schedules`): what each runs and when next, how often it fired or skipped, its
 * last run, and Pause / Resume. "firings" shows a schedule's latest firings (`GET /api/v1/schedules/{id}`).
 * Refreshed every few seconds.
 * @param {HTMLElement} root
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void}
 */
export function schedulesPage(root, ctx) {
  const body = h('tbody');
  /** Schedules whose firings are shown; kept across refreshes. */
  const open = new Set();
  clear(root);
  root.append(
    h('h1', {}, 'Schedules'),
    h(
      'p',
      { class: 'muted' },
      'Create them with ',
      h('code', {}, 'POST /api/v1/schedules'),
      ', ',
      h('code', {}, 'orchestrator schedule create'),
      ', or a template’s ',
      h('code', {}, 'schedule:'),
      '.',
    ),
    h(
      'table',
      { class: 'runs schedules' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['schedule', 'state', 'cron', 'runs', 'next run', 'fired', 'skipped', 'last run', ''].map((c) =>
            h('th', {}, c),
          ),
        ),
      ),
      body,
    ),
  );

  const load = async () => {
    const { schedules } = await api('GET', '/api/v1/schedules');
    const rows = [];
    for (const sc of schedules) {
      rows.push(row(sc, { toggle: () => toggle(sc), firings: () => showFirings(sc.id) }));
      if (open.has(sc.id)) rows.push(await firingsRow(sc.id));
    }
    if (schedules.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'no schedules')));
    body.replaceChildren(...rows);
  };
  /** @param {any} sc */
  const toggle = async (sc) => {
    await api('POST', `/api/v1/schedules/${encodeURIComponent(sc.id)}/${sc.paused ? 'resume' : 'pause'}`);
    await load();
  };
  /** @param {string} id */
  const showFirings = async (id) => {
    if (open.has(id)) open.delete(id);
    else open.add(id);
    await load();
  };
  const guarded = (/** @type {() => Promise<void>} */ f) => () => f().catch(ctx.onError);
  load().catch(ctx.onError);
  const timer = setInterval(guarded(load), REFRESH_MS);
  // Buttons call through here so their errors reach the page too.
  const wrap = (/** @type {() => Promise<void>} */ f) => guarded(f)();
  /** @param {any} sc @param {{toggle: () => Promise<void>, firings: () => Promise<void>}} actions */
  function row(sc, actions) {
    const target = sc.workflow_template ?? `inline ${sc.workflow?.id ?? 'workflow'}`;
    return h(
      'tr',
      { dataset: { id: sc.id, paused: String(sc.paused) } },
      h('td', {}, h('code', {}, sc.id), h('div', { class: 'muted' }, sc.source)),
      h('td', {}, badge(sc.paused ? 'paused' : 'active')),
      h('td', {}, h('code', {}, sc.cron), sc.timezone ? h('div', { class: 'muted' }, sc.timezone) : null),
      h(
        'td',
        {},
        sc.workflow_template
          ? h('a', { href: `#/templates/${encodeURIComponent(sc.workflow_template)}` }, target)
          : target,
        sc.overlap === 'allow' ? h('div', { class: 'muted' }, 'overlap allowed') : null,
      ),
      h('td', {}, sc.paused ? h('span', { class: 'muted' }, 'paused') : time(sc.next_run_at)),
      h('td', { class: 'fired' }, String(sc.fired)),
      h('td', { class: 'skipped' }, String(sc.skipped)),
      h(
        'td',
        {},
        sc.last_execution_id
          ? h(
              'a',
              { href: `#/runs/${encodeURIComponent(sc.last_execution_id)}`, class: 'run-link' },
              h('code', {}, sc.last_execution_id.slice(0, 8)),
            )
          : '—',
        sc.last_fired_at ? h('div', {}, time(sc.last_fired_at)) : null,
      ),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            { type: 'button', class: sc.paused ? 'resume' : 'pause', onclick: () => wrap(actions.toggle) },
            sc.paused ? 'Resume' : 'Pause',
          ),
          h(
            'button',
            { type: 'button', class: 'link firings', onclick: () => wrap(actions.firings) },
            open.has(sc.id) ? 'hide firings' : 'firings',
          ),
        ),
      ),
    );
  }
  return () => clearInterval(timer);
}

/** @param {string} id */
async function firingsRow(id) {
  const { firings } = await api('GET', `/api/v1/schedules/${encodeURIComponent(id)}`);
  return h(
    'tr',
    { class: 'firings', dataset: { for: id } },
    h(
      'td',
      { colspan: 9 },
      firings.length === 0
        ? h('span', { class: 'muted' }, 'no firings yet')
        : h(
            'ol',
            {},
            ...firings.map((/** @type {any} */ f) =>
              h(
                'li',
                {},
                time(f.fired_at),
                ' ',
                f.execution_id
                  ? h('a', { href: `#/runs/${encodeURIComponent(f.execution_id)}` }, h('code', {}, f.execution_id))
                  : h('span', { class: 'muted' }, `skipped: ${f.skipped}`),
              ),
            ),
          ),
    ),
  );
}
