// @ts-check
import { ApiError, api } from './api.js';
import { clear, h } from './dom.js';
import { validationView } from './validation-view.js';
import { pointerParts } from './variable-form.js';
import { isMap, isSeq, LineCounter, parseDocument } from './yaml/index.js';

/**
 * Run an inline workflow: paste YAML or JSON (YAML is a superset of JSON, parsed here by the same `yaml` package
 * the server uses), give variables as JSON, then Validate. The validation result (`POST /api/v1/validate`: the plan,
 * or every error with a link to its line) is shown before anything runs; Run is enabled only once the text as it
 * stands has validated, and starts it (`POST /api/v1/workflows`).
 */

const EXAMPLE = `id: hello
name: Hello
tasks:
  - id: greet
    type: transform
    parameters:
      output: "hello \${who}"
  - id: shout
    type: transform
    depends_on: [greet]
    parameters:
      output: "\${upper(greet.output)}!"
`;

/**
 * @param {HTMLElement} root
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void}
 */
export function submitPage(root, ctx) {
  const source = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: 'workflow-source',
      class: 'code',
      rows: 18,
      spellcheck: 'false',
      'aria-label': 'workflow (YAML or JSON)',
    })
  );
  source.value = EXAMPLE;
  const variables = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: 'workflow-variables',
      class: 'code',
      rows: 4,
      spellcheck: 'false',
      'aria-label': 'variables (JSON)',
    })
  );
  variables.value = '{"who": "world"}';
  const correlation = /** @type {HTMLInputElement} */ (
    h('input', { id: 'submit-correlation', autocomplete: 'off', placeholder: 'optional: runs once per id' })
  );
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const validate = h('button', { type: 'button', class: 'check' }, 'Validate');
  const run = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'primary run', disabled: true }, 'Run')
  );
  const status = h('p', { class: 'muted run-hint' }, 'Validate first: Run starts exactly what validated.');
  /** The request that validated, and the text it came from; editing either disables Run again. */
  /** @type {{text: string, vars: string, body: Record<string, unknown>} | undefined} */
  let validated;
  const invalidate = () => {
    if (validated && (validated.text !== source.value || validated.vars !== variables.value)) {
      validated = undefined;
      run.disabled = true;
      status.textContent = 'Changed since it validated: validate again to run it.';
    }
  };
  source.addEventListener('input', invalidate);
  variables.addEventListener('input', invalidate);

  /** @param {number} offset */
  const selectAt = (offset) => {
    const end = source.value.indexOf('\n', offset);
    source.focus();
    source.setSelectionRange(offset, end < 0 ? source.value.length : end);
  };

  const check = async () => {
    validated = undefined;
    run.disabled = true;
    result.replaceChildren();
    const lines = new LineCounter();
    const doc = parseDocument(source.value, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      result.replaceChildren(syntaxErrors(doc.errors, lines, selectAt));
      return;
    }
    const value = doc.toJS();
    let vars;
    try {
      vars = variables.value.trim() ? JSON.parse(variables.value) : {};
      if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) throw new Error('must be a JSON object');
    } catch (error) {
      result.replaceChildren(h('p', { class: 'alert' }, `variables: ${/** @type {Error} */ (error).message}`));
      return;
    }
    const isTemplate = value !== null && typeof value === 'object' && 'workflow' in value;
    /** @type {Record<string, unknown>} */
    const body = { [isTemplate ? 'template' : 'workflow']: value, variables: vars };
    if (correlation.value.trim()) body.correlation_id = correlation.value.trim();
    const answer = await api('POST', '/api/v1/validate', body);
    const locate = (/** @type {string} */ pointer) => {
      const [root, ...path] = pointerParts(pointer);
      if (root !== 'workflow' && root !== 'template') return undefined;
      const node = nodeAt(doc, path);
      const offset = node?.range?.[0];
      if (offset === undefined) return undefined;
      return { line: lines.linePos(offset).line, select: () => selectAt(offset) };
    };
    result.replaceChildren(validationView(answer, { locate }));
    if (!answer.valid) return;
    if (isTemplate) {
      status.textContent =
        'This is a template: it validated with these variables. Add it to the catalog (ORCHESTRATOR_TEMPLATES) to run it from the Templates page.';
      return;
    }
    validated = { text: source.value, vars: variables.value, body };
    run.disabled = false;
    status.textContent = 'Valid: Run starts it.';
  };

  const start = async () => {
    if (!validated) return;
    try {
      const answer = await api('POST', '/api/v1/workflows', validated.body);
      location.hash = `#/runs/${encodeURIComponent(answer.execution_id)}`;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      result.replaceChildren(validationView({ valid: false, message: error.message, errors: error.details }));
    }
  };
  validate.addEventListener('click', () => check().catch(ctx.onError));
  run.addEventListener('click', () => start().catch(ctx.onError));

  clear(root);
  root.append(
    h('h1', {}, 'Run a workflow'),
    h(
      'p',
      { class: 'muted' },
      'An inline workflow in YAML or JSON, as in the README. To run a catalog template, pick it on the ',
      h('a', { href: '#/templates' }, 'Templates'),
      ' page.',
    ),
    h(
      'form',
      { class: 'submit-form', onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      h('label', { for: 'workflow-source' }, 'workflow (YAML or JSON)'),
      source,
      h('label', { for: 'workflow-variables' }, 'variables (JSON object)'),
      variables,
      h('label', { for: 'submit-correlation' }, 'correlation id'),
      correlation,
      h('div', { class: 'buttons' }, validate, run),
      status,
    ),
    result,
  );
  return () => undefined;
}

/**
 * The YAML node a path of keys and indexes names, or the deepest one on the way.
 * @param {any} doc
 * @param {string[]} path
 */
function nodeAt(doc, path) {
  let node = doc.contents;
  for (const part of path) {
    const next = isMap(node) ? node.get(part, true) : isSeq(node) ? node.get(Number(part), true) : undefined;
    if (!next) break;
    node = next;
  }
  return node;
}

/**
 * @param {{message: string, pos: [number, number]}[]} errors
 * @param {LineCounter} lines
 * @param {(offset: number) => void} selectAt
 */
function syntaxErrors(errors, lines, selectAt) {
  return h(
    'section',
    { class: 'validation invalid', dataset: { valid: 'false' } },
    h('h3', {}, 'not valid YAML or JSON'),
    h(
      'ul',
      { class: 'errors' },
      ...errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return h(
          'li',
          { dataset: { pointer: '' } },
          h(
            'button',
            { type: 'button', class: 'link line', onclick: () => selectAt(e.pos[0]) },
            `line ${line}, column ${col}`,
          ),
          ` ${e.message.split('\n')[0]}`,
        );
      }),
    ),
  );
}
