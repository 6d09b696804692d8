// @ts-check
import { api } from './api.js';
import { clear, h } from './dom.js';

/**
 * The template catalog (`GET /api/v1/templates`): each template with its variables (required ones starred) and a
 * link to its page, where it can be run.
 * @param {HTMLElement} root
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void}
 */
export function templatesPage(root, ctx) {
  const body = h('tbody');
  clear(root);
  root.append(
    h('h1', {}, 'Templates'),
    h(
      'p',
      { class: 'muted' },
      'Pick a template to run it with your variables, or ',
      h('a', { href: '#/submit' }, 'paste a workflow'),
      '.',
    ),
    h(
      'table',
      { class: 'runs templates' },
      h(
        'thead',
        {},
        h('tr', {}, ...['template', 'name', 'category', 'tasks', 'variables', ''].map((c) => h('th', {}, c))),
      ),
      body,
    ),
  );
  api('GET', '/api/v1/templates')
    .then((answer) => {
      if (answer.templates.length === 0) {
        body.append(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'the catalog is empty')));
      }
      for (const t of answer.templates) body.append(row(t));
    })
    .catch(ctx.onError);
  return () => undefined;
}

/** @param {any} t a template summary */
function row(t) {
  const href = `#/templates/${encodeURIComponent(t.id)}`;
  const versions = t.versions?.length > 1 ? ` (${t.versions.length} versions)` : '';
  return h(
    'tr',
    { dataset: { id: t.id } },
    h(
      'td',
      {},
      h('a', { href, class: 'template-link' }, h('code', {}, t.id)),
      h('span', { class: 'muted' }, ` @${t.version ?? '-'}${versions}`),
    ),
    h(
      'td',
      { class: 'wrap' },
      h('strong', {}, t.name),
      t.description ? h('div', { class: 'muted description' }, t.description) : null,
    ),
    h('td', {}, t.category ?? ''),
    h('td', {}, String(t.tasks)),
    h(
      'td',
      { class: 'wrap' },
      ...t.variables.flatMap((/** @type {any} */ v, /** @type {number} */ i) => [
        i ? ', ' : '',
        h('code', {}, `${v.name}${v.required ? '*' : ''}`),
        h('span', { class: 'muted' }, `:${v.type ?? 'any'}`),
      ]),
    ),
    h('td', {}, h('a', { href, class: 'button run' }, 'Run…')),
  );
}
