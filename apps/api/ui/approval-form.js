// @ts-check
import { ApiError, api, runPath } from './api.js';
import { h } from './dom.js';

/**
 * What a waiting task waits for; for an approval, who may decide and a form to approve (with an optional JSON
 * payload, which becomes the task's output) or reject (with a reason).
 * @param {string} runId
 * @param {import('./dag-view.js').TaskState} task
 * @param {() => void} onDecided
 */
export function waitingSection(runId, task, onDecided) {
  const w = /** @type {{kind: string, message?: string, approvers?: string[]}} */ (task.waiting_for);
  const section = h(
    'section',
    { class: 'waiting' },
    h('h3', {}, w.kind === 'queue' ? 'waiting for a worker' : `waiting for ${w.kind}`),
    w.message ? h('p', { class: 'message' }, w.message) : null,
    w.kind === 'approval'
      ? h(
          'p',
          { class: 'approvers' },
          w.approvers?.length ? `approvers: ${w.approvers.join(', ')}` : 'anyone may decide',
        )
      : h('p', { class: 'muted' }, 'Start a worker with WORKER_QUEUES including this queue; see the Workers page.'),
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
