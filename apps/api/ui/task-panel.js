// @ts-check
import { ApiError, api, runPath } from './api.js';
import { badge, formatMs, h, time } from './dom.js';

/**
 * The details of one task: attempts, timings, worker, error, output, what it waits on, and for a waiting approval
 * task a form to approve or reject it. `onDecided` refreshes the run page after a decision.
 * @param {{runId: string, task: import('./dag-view.js').TaskState | undefined,
 *   graphTask: import('./dag-view.js').GraphTask, onDecided: () => void, onClose: () => void}} props
 */
export function taskPanel(props) {
  const { runId, graphTask } = props;
  const task = props.task ?? { id: graphTask.id, type: graphTask.type, status: 'pending', attempts: 0 };
  const jobId = `${runId}.${task.id}`;
  const rows = [
    ['type', task.type],
    ['status', badge(task.status)],
    ['attempts', String(task.attempts)],
    ['started', time(task.started_at)],
    ['finished', time(task.finished_at)],
    ['duration', formatMs(task.duration_ms) || '—'],
    ['worker', task.worker ?? '—'],
    ['depends on', graphTask.depends_on.length ? graphTask.depends_on.join(', ') : '—'],
  ];
  if (task.skip_reason) rows.splice(2, 0, ['skipped because', task.skip_reason]);
  if (graphTask.condition) rows.push(['condition', h('code', {}, graphTask.condition)]);
  return h(
    'aside',
    { class: 'panel', dataset: { task: task.id }, 'aria-label': `task ${task.id}` },
    h(
      'header',
      {},
      h('h2', {}, task.id),
      h('button', { type: 'button', class: 'link close', onclick: props.onClose, 'aria-label': 'close' }, '×'),
    ),
    task.name ? h('p', { class: 'muted' }, task.name) : null,
    h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    task.waiting_for ? waiting(runId, task, props.onDecided) : null,
    task.error ? h('section', {}, h('h3', {}, 'error'), h('pre', { class: 'error' }, task.error)) : null,
    task.output !== undefined
      ? h('section', {}, h('h3', {}, 'output'), h('pre', { class: 'output' }, JSON.stringify(task.output, null, 2)))
      : null,
    h(
      'p',
      {},
      h(
        'a',
        {
          href: `/admin/queues/queue/tasks/${encodeURIComponent(jobId)}`,
          target: '_blank',
          rel: 'noopener',
          class: 'board-link',
        },
        'job in Bull Board',
      ),
    ),
  );
}

/**
 * @param {string} runId
 * @param {import('./dag-view.js').TaskState} task
 * @param {() => void} onDecided
 */
function waiting(runId, task, onDecided) {
  const w = /** @type {{kind: string, message?: string, approvers?: string[]}} */ (task.waiting_for);
  const section = h(
    'section',
    { class: 'waiting' },
    h('h3', {}, `waiting for ${w.kind}`),
    w.message ? h('p', { class: 'message' }, w.message) : null,
    h('p', { class: 'approvers' }, w.approvers?.length ? `approvers: ${w.approvers.join(', ')}` : 'anyone may decide'),
  );
  if (w.kind !== 'approval') return section;
  const by = /** @type {HTMLInputElement} */ (
    h('input', { name: 'by', placeholder: 'your name', autocomplete: 'name' })
  );
  const payload = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { name: 'payload', rows: 3, placeholder: 'payload (JSON, optional): becomes the output' })
  );
  const reason = /** @type {HTMLInputElement} */ (h('input', { name: 'reason', placeholder: 'reason (for reject)' }));
  const result = h('p', { class: 'result', role: 'status' });
  /** @param {'approve' | 'reject'} decision */
  const decide = async (decision) => {
    /** @type {Record<string, unknown>} */
    const body = {};
    if (by.value.trim()) body.by = by.value.trim();
    if (decision === 'approve' && payload.value.trim()) {
      try {
        body.payload = JSON.parse(payload.value);
      } catch (error) {
        result.textContent = `payload is not JSON: ${/** @type {Error} */ (error).message}`;
        return;
      }
    }
    if (decision === 'reject' && reason.value.trim()) body.reason = reason.value.trim();
    try {
      await api('POST', `${runPath(runId)}/tasks/${encodeURIComponent(task.id)}/${decision}`, body);
      result.textContent = `${decision === 'approve' ? 'approved' : 'rejected'}`;
      onDecided();
    } catch (error) {
      result.textContent = error instanceof ApiError ? error.describe() : String(error);
    }
  };
  section.append(
    h(
      'form',
      { class: 'decision', onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      by,
      payload,
      reason,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', class: 'approve', onclick: () => decide('approve') }, 'Approve'),
        h('button', { type: 'button', class: 'reject', onclick: () => decide('reject') }, 'Reject'),
      ),
      result,
    ),
  );
  return section;
}
