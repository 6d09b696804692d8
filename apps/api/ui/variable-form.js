// @ts-check
import { h } from './dom.js';

/**
 * A form generated from a template's typed variables: one field per variable (required ones marked, defaults
 * filled in), each value checked against its type before anything is sent, and the API's errors shown at the
 * field their JSON pointer names (`/variables/<name>`, `/correlation_id`); anything else above the buttons.
 */

/**
 * @typedef {{name: string, type?: string, required?: boolean, description?: string, default?: unknown}} Variable
 * @typedef {{pointer: string, message: string}} Detail
 * @typedef {{read: () => unknown, input: HTMLElement, error: HTMLElement}} Field
 */

/** RFC 6901: `~1` is `/`, `~0` is `~`. */
export function pointerParts(/** @type {string} */ pointer) {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Raised by a field's reader: the message is shown under the field. */
class FieldError extends Error {}

/**
 * @param {Variable} v
 * @returns {{input: HTMLElement, read: () => unknown}} `read` gives undefined for "not given"
 */
function control(v) {
  const id = `var-${v.name}`;
  const common = {
    id,
    name: v.name,
    'aria-required': v.required ? 'true' : undefined,
    dataset: { type: v.type ?? 'any' },
  };
  if (v.type === 'boolean') {
    const select = /** @type {HTMLSelectElement} */ (
      h(
        'select',
        common,
        h('option', { value: '' }, v.required ? 'choose…' : '(not set)'),
        h('option', { value: 'true' }, 'true'),
        h('option', { value: 'false' }, 'false'),
      )
    );
    if (typeof v.default === 'boolean') select.value = String(v.default);
    return { input: select, read: () => (select.value === '' ? undefined : select.value === 'true') };
  }
  if (v.type === 'object' || v.type === 'array') {
    const area = /** @type {HTMLTextAreaElement} */ (
      h('textarea', { ...common, rows: 4, spellcheck: 'false', placeholder: v.type === 'array' ? '[ … ]' : '{ … }' })
    );
    if (v.default !== undefined) area.value = JSON.stringify(v.default, null, 2);
    return {
      input: area,
      read: () => {
        const text = area.value.trim();
        if (!text) return undefined;
        let value;
        try {
          value = JSON.parse(text);
        } catch (error) {
          throw new FieldError(`must be JSON: ${/** @type {Error} */ (error).message}`);
        }
        const fits =
          v.type === 'array'
            ? Array.isArray(value)
            : value !== null && typeof value === 'object' && !Array.isArray(value);
        if (!fits) throw new FieldError(`must be a JSON ${v.type === 'array' ? 'array' : 'object'}`);
        return value;
      },
    };
  }
  const numeric = v.type === 'number' || v.type === 'integer';
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      ...common,
      type: 'text',
      inputmode: v.type === 'integer' ? 'numeric' : numeric ? 'decimal' : undefined,
      autocomplete: 'off',
    })
  );
  if (v.default !== undefined) input.value = typeof v.default === 'string' ? v.default : JSON.stringify(v.default);
  return {
    input,
    read: () => {
      const text = input.value;
      if (text.trim() === '') return undefined;
      if (!numeric) return text;
      const n = /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(n)) throw new FieldError(`must be ${v.type === 'integer' ? 'an integer' : 'a number'}`);
      if (v.type === 'integer' && !Number.isInteger(n)) throw new FieldError('must be an integer (no fraction)');
      return n;
    },
  };
}

/**
 * @param {Variable[]} variables
 * @param {{actions: HTMLElement[]}} options buttons placed under the fields
 */
export function variableForm(variables, options) {
  /** @type {Map<string, Field>} */
  const fields = new Map();
  const rows = variables.map((v) => {
    const { input, read } = control(v);
    const error = h('p', { class: 'field-error', id: `err-${v.name}`, role: 'alert' });
    input.setAttribute('aria-describedby', `help-${v.name} err-${v.name}`);
    fields.set(`/variables/${v.name}`, { read, input, error });
    return h(
      'div',
      { class: 'field', dataset: { variable: v.name } },
      h(
        'label',
        { for: `var-${v.name}` },
        h('span', { class: 'name' }, v.name),
        v.required ? h('span', { class: 'required', title: 'required' }, ' *') : null,
        h('span', { class: 'type' }, ` ${v.type ?? 'any'}`),
      ),
      input,
      h(
        'p',
        { class: 'help muted', id: `help-${v.name}` },
        v.description ?? '',
        v.default !== undefined ? ` (default ${JSON.stringify(v.default)})` : '',
      ),
      error,
    );
  });
  const correlation = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'correlation-id',
      name: 'correlation_id',
      autocomplete: 'off',
      placeholder: 'optional: runs once per id',
    })
  );
  const correlationError = h('p', { class: 'field-error', id: 'err-correlation', role: 'alert' });
  fields.set('/correlation_id', {
    read: () => correlation.value.trim() || undefined,
    input: correlation,
    error: correlationError,
  });
  const general = h('ul', { class: 'form-errors', role: 'alert' });
  const element = h(
    'form',
    { class: 'variable-form', novalidate: true, onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
    variables.length
      ? h('fieldset', {}, h('legend', {}, 'variables'), ...rows)
      : h('p', { class: 'muted' }, 'This template has no variables.'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'correlation-id' }, h('span', { class: 'name' }, 'correlation id')),
      correlation,
      correlationError,
    ),
    general,
    h('div', { class: 'buttons' }, ...options.actions),
  );

  const clearErrors = () => {
    for (const f of fields.values()) {
      f.error.textContent = '';
      f.input.removeAttribute('aria-invalid');
    }
    general.replaceChildren();
  };

  /** @param {Detail[]} details */
  const showErrors = (details) => {
    for (const d of details) {
      const parts = pointerParts(d.pointer);
      const field = fields.get(parts[0] === 'variables' ? `/variables/${parts[1]}` : d.pointer);
      if (field && (parts[0] !== 'variables' || parts.length >= 2)) {
        field.error.textContent = field.error.textContent ? `${field.error.textContent}; ${d.message}` : d.message;
        field.input.setAttribute('aria-invalid', 'true');
      } else {
        general.append(h('li', { dataset: { pointer: d.pointer } }, h('code', {}, d.pointer || '/'), ` ${d.message}`));
      }
    }
    /** @type {HTMLElement | null} */ (element.querySelector('[aria-invalid="true"]'))?.focus();
  };

  return {
    element,
    clearErrors,
    showErrors,
    /**
     * The typed values and the correlation id, or the problems found before sending (also shown at their fields).
     * @returns {{ok: true, variables: Record<string, unknown>, correlationId?: string} | {ok: false}}
     */
    read() {
      clearErrors();
      /** @type {Detail[]} */
      const problems = [];
      /** @type {Record<string, unknown>} */
      const values = {};
      for (const v of variables) {
        const field = /** @type {Field} */ (fields.get(`/variables/${v.name}`));
        try {
          const value = field.read();
          if (value !== undefined) values[v.name] = value;
          else if (v.required && v.default === undefined)
            problems.push({ pointer: `/variables/${v.name}`, message: 'is required' });
        } catch (error) {
          if (!(error instanceof FieldError)) throw error;
          problems.push({ pointer: `/variables/${v.name}`, message: error.message });
        }
      }
      if (problems.length > 0) {
        showErrors(problems);
        return { ok: false };
      }
      const correlationId = correlation.value.trim() || undefined;
      return { ok: true, variables: values, ...(correlationId ? { correlationId } : {}) };
    },
  };
}
