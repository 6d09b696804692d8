// @ts-check
import { badge, formatMs, h, time } from './dom.js';
import { runIo } from './run-io.js';

const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
/** Tasks that ended without success, named beside the progress bar. */
const UNSUCCESSFUL = ['failed', 'cancelled', 'upstream_failed'];

/**
 * The run page's header: id and status, workflow and template, the parent run of a sub-workflow, progress, its
 * variables and result, and the pause / resume / cancel / retry buttons.
 * The bar and count are the tasks that completed or were skipped, so a failed or cancelled run never shows a full bar;
 * the tasks that failed, were cancelled or never ran because of a failure are counted beside it.
 * @param {{id: string, record: any, statuses: string[], liveState: string,
 *   parent?: {execution_id: string, task?: string},
 *   act: (path: string, then: (answer: any) => void) => void}} props
 */
export function runHead(props) {
  const { id, record } = props;
  const took = record.duration_ms ?? (record.started_at ? Date.now() - Date.parse(record.started_at) : undefined);
  const status = record.status;
  const action = (/** @type {string} */ label, /** @type {string} */ path, /** @type {(a: any) => void} */ then) =>
    h(
      'button',
      { type: 'button', class: `action ${label.toLowerCase()}`, onclick: () => props.act(path, then) },
      label,
    );
  const parent = props.parent;
  const count = (/** @type {string} */ s) => props.statuses.filter((t) => t === s).length;
  const ok = count('completed') + count('skipped');
  const others = UNSUCCESSFUL.filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${s}`)
    .join(', ');
  return [
    h('h1', {}, 'run ', h('code', { class: 'run-id' }, id), ' ', badge(status)),
    h(
      'p',
      { class: 'meta' },
      h('strong', {}, record.workflow.name ?? record.workflow.id),
      record.template ? ` · template ${record.template.id}@${record.template.version ?? '-'}` : ' · inline workflow',
      record.correlation_id ? ` · correlation ${record.correlation_id}` : '',
      record.request_id ? ` · request ${record.request_id}` : '',
      record.trace_id ? ' · trace ' : '',
      record.trace_id ? traceLink(record.trace_id) : null,
      ' · created ',
      time(record.created_at),
    ),
    parent
      ? h(
          'p',
          { class: 'parent-link' },
          'sub-workflow of run ',
          h(
            'a',
            { href: `#/runs/${encodeURIComponent(parent.execution_id)}`, class: 'parent-run' },
            parent.execution_id,
          ),
          parent.task ? ` (task ${parent.task})` : '',
        )
      : null,
    h(
      'div',
      { class: 'progress-line' },
      h('progress', { max: props.statuses.length, value: ok, dataset: { status } }),
      ` ${ok}/${props.statuses.length} tasks`,
      others ? h('span', { class: 'progress-others' }, ` (${others})`) : '',
      took === undefined ? '' : ` · ${formatMs(took)}`,
    ),
    record.error ? h('p', { class: 'run-error' }, record.error) : null,
    record.waiting_for ? h('p', { class: 'run-waiting', role: 'status' }, record.waiting_for) : null,
    runIo(record),
    h(
      'div',
      { class: 'actions' },
      status === 'running' ? action('Pause', 'pause', () => undefined) : null,
      status === 'paused' ? action('Resume', 'resume', () => undefined) : null,
      TERMINAL.has(status) ? null : action('Cancel', 'cancel', () => undefined),
      status === 'failed' || status === 'cancelled' || status === 'timed_out'
        ? action('Retry', 'retry', (answer) => {
            location.hash = `#/runs/${encodeURIComponent(answer.execution_id)}`;
          })
        : null,
      h(
        'a',
        { href: `/admin/queues/queue/workflows/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' },
        'run job in Bull Board',
      ),
      h('span', { class: 'live', dataset: { state: TERMINAL.has(status) ? 'ended' : props.liveState } }),
    ),
  ].filter((n) => n !== null);
}

/** The run's trace id, a link into the operator's tracing UI when TRACE_URL_TEMPLATE is set. */
function traceLink(/** @type {string} */ traceId) {
  const template = document.querySelector('meta[name="orch-trace-url"]')?.getAttribute('content');
  const code = h('code', { class: 'trace-id' }, traceId);
  if (!template) return code;
  const href = template.replaceAll('{trace_id}', encodeURIComponent(traceId));
  return h('a', { href, class: 'trace-link', target: '_blank', rel: 'noopener' }, code);
}
