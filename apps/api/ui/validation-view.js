// @ts-check
import { formatMs, h } from './dom.js';

/**
 * The answer of `POST /api/v1/validate`: for a valid document its plan (levels of tasks that run together, the
 * critical path); otherwise every error with its JSON pointer, each optionally a link to where it is in the text.
 * @param {any} result `{valid: true, plan}` or `{valid: false, message, errors}`
 * @param {{locate?: (pointer: string) => {line: number, select: () => void} | undefined}} [options]
 */
export function validationView(result, options = {}) {
  if (!result.valid) {
    return h(
      'section',
      { class: 'validation invalid', dataset: { valid: 'false' } },
      h('h3', {}, `not valid: ${result.message}`),
      h(
        'ul',
        { class: 'errors' },
        ...result.errors.map((/** @type {{pointer: string, message: string}} */ e) => {
          const where = options.locate?.(e.pointer);
          return h(
            'li',
            { dataset: { pointer: e.pointer } },
            where
              ? h('button', { type: 'button', class: 'link line', onclick: where.select }, `line ${where.line}`)
              : null,
            where ? ' ' : null,
            h('code', {}, e.pointer || '/'),
            ` ${e.message}`,
          );
        }),
      ),
    );
  }
  const plan = result.plan;
  const count = plan.levels.reduce((/** @type {number} */ n, /** @type {unknown[]} */ l) => n + l.length, 0);
  return h(
    'section',
    { class: 'validation valid', dataset: { valid: 'true' } },
    h(
      'h3',
      {},
      `valid: ${count} task${count === 1 ? '' : 's'} in ${plan.depth} level${plan.depth === 1 ? '' : 's'}, width ${plan.width}`,
    ),
    plan.critical_path?.length
      ? h(
          'p',
          { class: 'critical' },
          `critical path ${plan.critical_path.join(' → ')}`,
          plan.critical_path_ms ? ` (at least ${formatMs(plan.critical_path_ms)})` : '',
        )
      : null,
    h(
      'ol',
      { class: 'levels', start: 0 },
      ...plan.levels.map((/** @type {{id: string, type: string}[]} */ level) =>
        h(
          'li',
          {},
          ...level.flatMap((t, i) => [i ? ', ' : '', h('code', {}, t.id), h('span', { class: 'muted' }, ` ${t.type}`)]),
        ),
      ),
    ),
  );
}
