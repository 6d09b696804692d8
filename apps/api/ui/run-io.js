// @ts-check
import { h } from './dom.js';

/**
 * What went into a run and what came out: its variables, and its result (its workflow's `output:`, else its final
 * tasks' outputs), or why there is none yet.
 * @param {any} record the full record (`GET /api/v1/workflows/{id}`)
 */
export function runIo(record) {
  const variables = record.variables ?? {};
  const none = (/** @type {string} */ text) => h('p', { class: 'muted' }, text);
  return h(
    'div',
    { class: 'run-io' },
    h(
      'section',
      { class: 'run-variables', 'aria-label': 'variables' },
      h('h3', {}, 'variables'),
      Object.keys(variables).length > 0 ? h('pre', {}, JSON.stringify(variables, null, 2)) : none('none'),
    ),
    h(
      'section',
      { class: 'run-result', 'aria-label': 'result', dataset: { state: record.result === undefined ? 'none' : 'set' } },
      h('h3', {}, 'result'),
      record.result !== undefined
        ? h('pre', {}, JSON.stringify(record.result, null, 2))
        : none(pendingText(record.status)),
    ),
  );
}

/** @param {string} status */
function pendingText(status) {
  if (status === 'completed') return '—';
  if (status === 'pending' || status === 'running' || status === 'paused') return 'once the run completes';
  return `none: the run ${status.replace('_', ' ')}`;
}
