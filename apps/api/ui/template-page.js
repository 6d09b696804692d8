// @ts-check
import { ApiError, api } from './api.js';
import { createDag } from './dag-view.js';
import { clear, h } from './dom.js';
import { displayGraph } from './graph-model.js';
import { validationView } from './validation-view.js';
import { variableForm } from './variable-form.js';

/**
 * One template: what it does, its task graph, and a form generated from its variables. "Check" validates and plans
 * the run with those values (`POST /api/v1/validate`), "Run" starts it and opens the run page; the API's errors are
 * shown at the fields they point to. `?version=1.2` pins a version the catalog keeps.
 * @param {HTMLElement} root
 * @param {string} id
 * @param {URLSearchParams} query
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void}
 */
export function templatePage(root, id, query, ctx) {
  clear(root);
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/templates' }, '← templates')),
    h('p', { class: 'muted' }, 'loading…'),
  );
  const version = query.get('version') ?? '';
  const reference = version ? `${id}@${version}` : id;
  Promise.all([
    api('GET', `/api/v1/templates/${encodeURIComponent(reference)}`),
    api('GET', `/api/v1/templates/${encodeURIComponent(id)}/versions`),
  ])
    .then(([template, versions]) => render(root, template, versions.versions ?? [], reference))
    .catch(ctx.onError);
  return () => undefined;
}

/**
 * @param {HTMLElement} root
 * @param {any} template
 * @param {any[]} versions
 * @param {string} reference
 */
function render(root, template, versions, reference) {
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const check = h('button', { type: 'button', class: 'check' }, 'Check');
  const run = h('button', { type: 'button', class: 'primary run' }, 'Run');
  const form = variableForm(template.variables ?? [], { actions: [check, run] });

  /** @param {'validate' | 'run'} action */
  const send = async (action) => {
    const values = form.read();
    result.replaceChildren();
    if (!values.ok) return;
    /** @type {Record<string, unknown>} */
    const body = { workflow_template: reference, variables: values.variables };
    if (values.correlationId) body.correlation_id = values.correlationId;
    try {
      if (action === 'validate') {
        const answer = await api('POST', '/api/v1/validate', body);
        if (!answer.valid) form.showErrors(answer.errors);
        result.replaceChildren(validationView(answer));
        return;
      }
      const answer = await api('POST', '/api/v1/workflows', body);
      location.hash = `#/runs/${encodeURIComponent(answer.execution_id)}`;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      form.showErrors(error.details.length ? error.details : [{ pointer: '', message: error.message }]);
    }
  };
  check.addEventListener('click', () => send('validate').catch(showError));
  run.addEventListener('click', () => send('run').catch(showError));
  const showError = (/** @type {unknown} */ error) => {
    result.replaceChildren(h('p', { class: 'alert' }, error instanceof ApiError ? error.describe() : String(error)));
  };

  const tasks = template.workflow.tasks.map((/** @type {any} */ t) => ({
    id: t.id,
    name: t.name,
    type: t.type,
    depends_on: [
      ...(t.depends_on ?? []),
      ...template.workflow.tasks
        .filter((/** @type {any} */ c) => c.on_success?.includes(t.id) || c.on_failure?.includes(t.id))
        .map((/** @type {any} */ c) => c.id)
        .filter((/** @type {string} */ c) => !(t.depends_on ?? []).includes(c)),
    ],
  }));
  const dag = createDag(displayGraph(tasks, new Set()), { onSelect: () => undefined, onExpand: () => undefined });
  clear(root);
  const parts = [
    h('p', { class: 'crumbs' }, h('a', { href: '#/templates' }, '← templates')),
    h('h1', {}, template.name, ' ', h('code', { class: 'muted' }, `${template.id}@${template.version ?? '-'}`)),
    template.description ? h('p', { class: 'description' }, template.description) : null,
    versions.length > 1
      ? h(
          'p',
          { class: 'versions' },
          'versions: ',
          ...versions.flatMap((/** @type {any} */ v, /** @type {number} */ i) => [
            i ? ', ' : '',
            h(
              'a',
              { href: `#/templates/${encodeURIComponent(template.id)}?version=${encodeURIComponent(v.version ?? '')}` },
              v.version ?? '-',
            ),
          ]),
        )
      : null,
    h(
      'div',
      { class: 'template-body' },
      h('section', { class: 'run-form' }, h('h2', {}, 'Run it'), form.element, result),
      h('section', { class: 'preview' }, h('h2', {}, `${tasks.length} tasks`), dag.element),
    ),
  ];
  root.append(...parts.filter((p) => p !== null));
  dag.start('fit');
  dag.update({ statusOf: () => 'pending', states: new Map(), items: new Map(), now: Date.now(), preview: true });
}
